// Original file: proto/slipway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ActivateRequest as _slipway_v1_ActivateRequest, ActivateRequest__Output as _slipway_v1_ActivateRequest__Output } from '../../slipway/v1/ActivateRequest.js';
import type { ControlRequest as _slipway_v1_ControlRequest, ControlRequest__Output as _slipway_v1_ControlRequest__Output } from '../../slipway/v1/ControlRequest.js';
import type { DeployEvent as _slipway_v1_DeployEvent, DeployEvent__Output as _slipway_v1_DeployEvent__Output } from '../../slipway/v1/DeployEvent.js';
import type { ListReleasesRequest as _slipway_v1_ListReleasesRequest, ListReleasesRequest__Output as _slipway_v1_ListReleasesRequest__Output } from '../../slipway/v1/ListReleasesRequest.js';
import type { ListReleasesResponse as _slipway_v1_ListReleasesResponse, ListReleasesResponse__Output as _slipway_v1_ListReleasesResponse__Output } from '../../slipway/v1/ListReleasesResponse.js';
import type { LogLine as _slipway_v1_LogLine, LogLine__Output as _slipway_v1_LogLine__Output } from '../../slipway/v1/LogLine.js';
import type { LogsRequest as _slipway_v1_LogsRequest, LogsRequest__Output as _slipway_v1_LogsRequest__Output } from '../../slipway/v1/LogsRequest.js';
import type { StatusRequest as _slipway_v1_StatusRequest, StatusRequest__Output as _slipway_v1_StatusRequest__Output } from '../../slipway/v1/StatusRequest.js';
import type { StatusResponse as _slipway_v1_StatusResponse, StatusResponse__Output as _slipway_v1_StatusResponse__Output } from '../../slipway/v1/StatusResponse.js';
import type { UploadChunk as _slipway_v1_UploadChunk, UploadChunk__Output as _slipway_v1_UploadChunk__Output } from '../../slipway/v1/UploadChunk.js';
import type { UploadResult as _slipway_v1_UploadResult, UploadResult__Output as _slipway_v1_UploadResult__Output } from '../../slipway/v1/UploadResult.js';

export interface AgentClient extends grpc.Client {
  Activate(argument: _slipway_v1_ActivateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  Activate(argument: _slipway_v1_ActivateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  activate(argument: _slipway_v1_ActivateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  activate(argument: _slipway_v1_ActivateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  
  Control(argument: _slipway_v1_ControlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  Control(argument: _slipway_v1_ControlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  control(argument: _slipway_v1_ControlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  control(argument: _slipway_v1_ControlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  
  ListReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _slipway_v1_ListReleasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _slipway_v1_ListReleasesRequest, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  
  Logs(argument: _slipway_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  Logs(argument: _slipway_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  logs(argument: _slipway_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  logs(argument: _slipway_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  
  Status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _slipway_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _slipway_v1_StatusRequest, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  Upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  Upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  Upload(options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  Upload(callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  Activate: grpc.handleServerStreamingCall<_slipway_v1_ActivateRequest__Output, _slipway_v1_DeployEvent>;
  
  Control: grpc.handleServerStreamingCall<_slipway_v1_ControlRequest__Output, _slipway_v1_DeployEvent>;
  
  ListReleases: grpc.handleUnaryCall<_slipway_v1_ListReleasesRequest__Output, _slipway_v1_ListReleasesResponse>;
  
  Logs: grpc.handleServerStreamingCall<_slipway_v1_LogsRequest__Output, _slipway_v1_LogLine>;
  
  Status: grpc.handleUnaryCall<_slipway_v1_StatusRequest__Output, _slipway_v1_StatusResponse>;
  
  Upload: grpc.handleClientStreamingCall<_slipway_v1_UploadChunk__Output, _slipway_v1_UploadResult>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  Activate: MethodDefinition<_slipway_v1_ActivateRequest, _slipway_v1_DeployEvent, _slipway_v1_ActivateRequest__Output, _slipway_v1_DeployEvent__Output>
  Control: MethodDefinition<_slipway_v1_ControlRequest, _slipway_v1_DeployEvent, _slipway_v1_ControlRequest__Output, _slipway_v1_DeployEvent__Output>
  ListReleases: MethodDefinition<_slipway_v1_ListReleasesRequest, _slipway_v1_ListReleasesResponse, _slipway_v1_ListReleasesRequest__Output, _slipway_v1_ListReleasesResponse__Output>
  Logs: MethodDefinition<_slipway_v1_LogsRequest, _slipway_v1_LogLine, _slipway_v1_LogsRequest__Output, _slipway_v1_LogLine__Output>
  Status: MethodDefinition<_slipway_v1_StatusRequest, _slipway_v1_StatusResponse, _slipway_v1_StatusRequest__Output, _slipway_v1_StatusResponse__Output>
  Upload: MethodDefinition<_slipway_v1_UploadChunk, _slipway_v1_UploadResult, _slipway_v1_UploadChunk__Output, _slipway_v1_UploadResult__Output>
}
