// Original file: proto/slipway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ActivateRequest as _slipway_v1_ActivateRequest, ActivateRequest__Output as _slipway_v1_ActivateRequest__Output } from '../../slipway/v1/ActivateRequest.js';
import type { ControlRequest as _slipway_v1_ControlRequest, ControlRequest__Output as _slipway_v1_ControlRequest__Output } from '../../slipway/v1/ControlRequest.js';
import type { DeployEvent as _slipway_v1_DeployEvent, DeployEvent__Output as _slipway_v1_DeployEvent__Output } from '../../slipway/v1/DeployEvent.js';
import type { EnvResponse as _slipway_v1_EnvResponse, EnvResponse__Output as _slipway_v1_EnvResponse__Output } from '../../slipway/v1/EnvResponse.js';
import type { FetchProgress as _slipway_v1_FetchProgress, FetchProgress__Output as _slipway_v1_FetchProgress__Output } from '../../slipway/v1/FetchProgress.js';
import type { FetchRequest as _slipway_v1_FetchRequest, FetchRequest__Output as _slipway_v1_FetchRequest__Output } from '../../slipway/v1/FetchRequest.js';
import type { GetEnvRequest as _slipway_v1_GetEnvRequest, GetEnvRequest__Output as _slipway_v1_GetEnvRequest__Output } from '../../slipway/v1/GetEnvRequest.js';
import type { HistoryRequest as _slipway_v1_HistoryRequest, HistoryRequest__Output as _slipway_v1_HistoryRequest__Output } from '../../slipway/v1/HistoryRequest.js';
import type { HistoryResponse as _slipway_v1_HistoryResponse, HistoryResponse__Output as _slipway_v1_HistoryResponse__Output } from '../../slipway/v1/HistoryResponse.js';
import type { ListReleasesRequest as _slipway_v1_ListReleasesRequest, ListReleasesRequest__Output as _slipway_v1_ListReleasesRequest__Output } from '../../slipway/v1/ListReleasesRequest.js';
import type { ListReleasesResponse as _slipway_v1_ListReleasesResponse, ListReleasesResponse__Output as _slipway_v1_ListReleasesResponse__Output } from '../../slipway/v1/ListReleasesResponse.js';
import type { LockRequest as _slipway_v1_LockRequest, LockRequest__Output as _slipway_v1_LockRequest__Output } from '../../slipway/v1/LockRequest.js';
import type { LockResponse as _slipway_v1_LockResponse, LockResponse__Output as _slipway_v1_LockResponse__Output } from '../../slipway/v1/LockResponse.js';
import type { LogLine as _slipway_v1_LogLine, LogLine__Output as _slipway_v1_LogLine__Output } from '../../slipway/v1/LogLine.js';
import type { LogsRequest as _slipway_v1_LogsRequest, LogsRequest__Output as _slipway_v1_LogsRequest__Output } from '../../slipway/v1/LogsRequest.js';
import type { PruneRequest as _slipway_v1_PruneRequest, PruneRequest__Output as _slipway_v1_PruneRequest__Output } from '../../slipway/v1/PruneRequest.js';
import type { PruneResponse as _slipway_v1_PruneResponse, PruneResponse__Output as _slipway_v1_PruneResponse__Output } from '../../slipway/v1/PruneResponse.js';
import type { RunTaskRequest as _slipway_v1_RunTaskRequest, RunTaskRequest__Output as _slipway_v1_RunTaskRequest__Output } from '../../slipway/v1/RunTaskRequest.js';
import type { SetEnvRequest as _slipway_v1_SetEnvRequest, SetEnvRequest__Output as _slipway_v1_SetEnvRequest__Output } from '../../slipway/v1/SetEnvRequest.js';
import type { StatusRequest as _slipway_v1_StatusRequest, StatusRequest__Output as _slipway_v1_StatusRequest__Output } from '../../slipway/v1/StatusRequest.js';
import type { StatusResponse as _slipway_v1_StatusResponse, StatusResponse__Output as _slipway_v1_StatusResponse__Output } from '../../slipway/v1/StatusResponse.js';
import type { TaskInput as _slipway_v1_TaskInput, TaskInput__Output as _slipway_v1_TaskInput__Output } from '../../slipway/v1/TaskInput.js';
import type { TaskOutput as _slipway_v1_TaskOutput, TaskOutput__Output as _slipway_v1_TaskOutput__Output } from '../../slipway/v1/TaskOutput.js';
import type { UnlockRequest as _slipway_v1_UnlockRequest, UnlockRequest__Output as _slipway_v1_UnlockRequest__Output } from '../../slipway/v1/UnlockRequest.js';
import type { UploadChunk as _slipway_v1_UploadChunk, UploadChunk__Output as _slipway_v1_UploadChunk__Output } from '../../slipway/v1/UploadChunk.js';
import type { UploadMeta as _slipway_v1_UploadMeta, UploadMeta__Output as _slipway_v1_UploadMeta__Output } from '../../slipway/v1/UploadMeta.js';
import type { UploadResult as _slipway_v1_UploadResult, UploadResult__Output as _slipway_v1_UploadResult__Output } from '../../slipway/v1/UploadResult.js';
import type { UploadTicket as _slipway_v1_UploadTicket, UploadTicket__Output as _slipway_v1_UploadTicket__Output } from '../../slipway/v1/UploadTicket.js';
import type { WatchRequest as _slipway_v1_WatchRequest, WatchRequest__Output as _slipway_v1_WatchRequest__Output } from '../../slipway/v1/WatchRequest.js';

export interface AgentClient extends grpc.Client {
  Activate(argument: _slipway_v1_ActivateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  Activate(argument: _slipway_v1_ActivateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  activate(argument: _slipway_v1_ActivateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  activate(argument: _slipway_v1_ActivateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  
  BeginUpload(argument: _slipway_v1_UploadMeta, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  BeginUpload(argument: _slipway_v1_UploadMeta, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  BeginUpload(argument: _slipway_v1_UploadMeta, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  BeginUpload(argument: _slipway_v1_UploadMeta, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _slipway_v1_UploadMeta, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _slipway_v1_UploadMeta, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _slipway_v1_UploadMeta, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _slipway_v1_UploadMeta, callback: grpc.requestCallback<_slipway_v1_UploadTicket__Output>): grpc.ClientUnaryCall;
  
  Control(argument: _slipway_v1_ControlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  Control(argument: _slipway_v1_ControlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  control(argument: _slipway_v1_ControlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  control(argument: _slipway_v1_ControlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  
  Fetch(argument: _slipway_v1_FetchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_FetchProgress__Output>;
  Fetch(argument: _slipway_v1_FetchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_FetchProgress__Output>;
  fetch(argument: _slipway_v1_FetchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_FetchProgress__Output>;
  fetch(argument: _slipway_v1_FetchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_FetchProgress__Output>;
  
  GetEnv(argument: _slipway_v1_GetEnvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  GetEnv(argument: _slipway_v1_GetEnvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  GetEnv(argument: _slipway_v1_GetEnvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  GetEnv(argument: _slipway_v1_GetEnvRequest, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  getEnv(argument: _slipway_v1_GetEnvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  getEnv(argument: _slipway_v1_GetEnvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  getEnv(argument: _slipway_v1_GetEnvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  getEnv(argument: _slipway_v1_GetEnvRequest, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  
  History(argument: _slipway_v1_HistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _slipway_v1_HistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _slipway_v1_HistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _slipway_v1_HistoryRequest, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _slipway_v1_HistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _slipway_v1_HistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _slipway_v1_HistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _slipway_v1_HistoryRequest, callback: grpc.requestCallback<_slipway_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  
  ListReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _slipway_v1_ListReleasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _slipway_v1_ListReleasesRequest, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _slipway_v1_ListReleasesRequest, callback: grpc.requestCallback<_slipway_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  
  Lock(argument: _slipway_v1_LockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  Lock(argument: _slipway_v1_LockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  Lock(argument: _slipway_v1_LockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  Lock(argument: _slipway_v1_LockRequest, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  lock(argument: _slipway_v1_LockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  lock(argument: _slipway_v1_LockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  lock(argument: _slipway_v1_LockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  lock(argument: _slipway_v1_LockRequest, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  
  Logs(argument: _slipway_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  Logs(argument: _slipway_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  logs(argument: _slipway_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  logs(argument: _slipway_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_LogLine__Output>;
  
  Prune(argument: _slipway_v1_PruneRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _slipway_v1_PruneRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _slipway_v1_PruneRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _slipway_v1_PruneRequest, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _slipway_v1_PruneRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _slipway_v1_PruneRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _slipway_v1_PruneRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _slipway_v1_PruneRequest, callback: grpc.requestCallback<_slipway_v1_PruneResponse__Output>): grpc.ClientUnaryCall;
  
  RunTask(argument: _slipway_v1_RunTaskRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_TaskOutput__Output>;
  RunTask(argument: _slipway_v1_RunTaskRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_TaskOutput__Output>;
  runTask(argument: _slipway_v1_RunTaskRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_TaskOutput__Output>;
  runTask(argument: _slipway_v1_RunTaskRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_TaskOutput__Output>;
  
  RunTaskStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_slipway_v1_TaskInput, _slipway_v1_TaskOutput__Output>;
  RunTaskStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_slipway_v1_TaskInput, _slipway_v1_TaskOutput__Output>;
  runTaskStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_slipway_v1_TaskInput, _slipway_v1_TaskOutput__Output>;
  runTaskStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_slipway_v1_TaskInput, _slipway_v1_TaskOutput__Output>;
  
  SetEnv(argument: _slipway_v1_SetEnvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  SetEnv(argument: _slipway_v1_SetEnvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  SetEnv(argument: _slipway_v1_SetEnvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  SetEnv(argument: _slipway_v1_SetEnvRequest, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  setEnv(argument: _slipway_v1_SetEnvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  setEnv(argument: _slipway_v1_SetEnvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  setEnv(argument: _slipway_v1_SetEnvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  setEnv(argument: _slipway_v1_SetEnvRequest, callback: grpc.requestCallback<_slipway_v1_EnvResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _slipway_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _slipway_v1_StatusRequest, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _slipway_v1_StatusRequest, callback: grpc.requestCallback<_slipway_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  Unlock(argument: _slipway_v1_UnlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  Unlock(argument: _slipway_v1_UnlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  Unlock(argument: _slipway_v1_UnlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  Unlock(argument: _slipway_v1_UnlockRequest, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _slipway_v1_UnlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _slipway_v1_UnlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _slipway_v1_UnlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  unlock(argument: _slipway_v1_UnlockRequest, callback: grpc.requestCallback<_slipway_v1_LockResponse__Output>): grpc.ClientUnaryCall;
  
  Upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  Upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  Upload(options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  Upload(callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(options: grpc.CallOptions, callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  upload(callback: grpc.requestCallback<_slipway_v1_UploadResult__Output>): grpc.ClientWritableStream<_slipway_v1_UploadChunk>;
  
  Watch(argument: _slipway_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  Watch(argument: _slipway_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  watch(argument: _slipway_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  watch(argument: _slipway_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_slipway_v1_DeployEvent__Output>;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  Activate: grpc.handleServerStreamingCall<_slipway_v1_ActivateRequest__Output, _slipway_v1_DeployEvent>;
  
  BeginUpload: grpc.handleUnaryCall<_slipway_v1_UploadMeta__Output, _slipway_v1_UploadTicket>;
  
  Control: grpc.handleServerStreamingCall<_slipway_v1_ControlRequest__Output, _slipway_v1_DeployEvent>;
  
  Fetch: grpc.handleServerStreamingCall<_slipway_v1_FetchRequest__Output, _slipway_v1_FetchProgress>;
  
  GetEnv: grpc.handleUnaryCall<_slipway_v1_GetEnvRequest__Output, _slipway_v1_EnvResponse>;
  
  History: grpc.handleUnaryCall<_slipway_v1_HistoryRequest__Output, _slipway_v1_HistoryResponse>;
  
  ListReleases: grpc.handleUnaryCall<_slipway_v1_ListReleasesRequest__Output, _slipway_v1_ListReleasesResponse>;
  
  Lock: grpc.handleUnaryCall<_slipway_v1_LockRequest__Output, _slipway_v1_LockResponse>;
  
  Logs: grpc.handleServerStreamingCall<_slipway_v1_LogsRequest__Output, _slipway_v1_LogLine>;
  
  Prune: grpc.handleUnaryCall<_slipway_v1_PruneRequest__Output, _slipway_v1_PruneResponse>;
  
  RunTask: grpc.handleServerStreamingCall<_slipway_v1_RunTaskRequest__Output, _slipway_v1_TaskOutput>;
  
  RunTaskStream: grpc.handleBidiStreamingCall<_slipway_v1_TaskInput__Output, _slipway_v1_TaskOutput>;
  
  SetEnv: grpc.handleUnaryCall<_slipway_v1_SetEnvRequest__Output, _slipway_v1_EnvResponse>;
  
  Status: grpc.handleUnaryCall<_slipway_v1_StatusRequest__Output, _slipway_v1_StatusResponse>;
  
  Unlock: grpc.handleUnaryCall<_slipway_v1_UnlockRequest__Output, _slipway_v1_LockResponse>;
  
  Upload: grpc.handleClientStreamingCall<_slipway_v1_UploadChunk__Output, _slipway_v1_UploadResult>;
  
  Watch: grpc.handleServerStreamingCall<_slipway_v1_WatchRequest__Output, _slipway_v1_DeployEvent>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  Activate: MethodDefinition<_slipway_v1_ActivateRequest, _slipway_v1_DeployEvent, _slipway_v1_ActivateRequest__Output, _slipway_v1_DeployEvent__Output>
  BeginUpload: MethodDefinition<_slipway_v1_UploadMeta, _slipway_v1_UploadTicket, _slipway_v1_UploadMeta__Output, _slipway_v1_UploadTicket__Output>
  Control: MethodDefinition<_slipway_v1_ControlRequest, _slipway_v1_DeployEvent, _slipway_v1_ControlRequest__Output, _slipway_v1_DeployEvent__Output>
  Fetch: MethodDefinition<_slipway_v1_FetchRequest, _slipway_v1_FetchProgress, _slipway_v1_FetchRequest__Output, _slipway_v1_FetchProgress__Output>
  GetEnv: MethodDefinition<_slipway_v1_GetEnvRequest, _slipway_v1_EnvResponse, _slipway_v1_GetEnvRequest__Output, _slipway_v1_EnvResponse__Output>
  History: MethodDefinition<_slipway_v1_HistoryRequest, _slipway_v1_HistoryResponse, _slipway_v1_HistoryRequest__Output, _slipway_v1_HistoryResponse__Output>
  ListReleases: MethodDefinition<_slipway_v1_ListReleasesRequest, _slipway_v1_ListReleasesResponse, _slipway_v1_ListReleasesRequest__Output, _slipway_v1_ListReleasesResponse__Output>
  Lock: MethodDefinition<_slipway_v1_LockRequest, _slipway_v1_LockResponse, _slipway_v1_LockRequest__Output, _slipway_v1_LockResponse__Output>
  Logs: MethodDefinition<_slipway_v1_LogsRequest, _slipway_v1_LogLine, _slipway_v1_LogsRequest__Output, _slipway_v1_LogLine__Output>
  Prune: MethodDefinition<_slipway_v1_PruneRequest, _slipway_v1_PruneResponse, _slipway_v1_PruneRequest__Output, _slipway_v1_PruneResponse__Output>
  RunTask: MethodDefinition<_slipway_v1_RunTaskRequest, _slipway_v1_TaskOutput, _slipway_v1_RunTaskRequest__Output, _slipway_v1_TaskOutput__Output>
  RunTaskStream: MethodDefinition<_slipway_v1_TaskInput, _slipway_v1_TaskOutput, _slipway_v1_TaskInput__Output, _slipway_v1_TaskOutput__Output>
  SetEnv: MethodDefinition<_slipway_v1_SetEnvRequest, _slipway_v1_EnvResponse, _slipway_v1_SetEnvRequest__Output, _slipway_v1_EnvResponse__Output>
  Status: MethodDefinition<_slipway_v1_StatusRequest, _slipway_v1_StatusResponse, _slipway_v1_StatusRequest__Output, _slipway_v1_StatusResponse__Output>
  Unlock: MethodDefinition<_slipway_v1_UnlockRequest, _slipway_v1_LockResponse, _slipway_v1_UnlockRequest__Output, _slipway_v1_LockResponse__Output>
  Upload: MethodDefinition<_slipway_v1_UploadChunk, _slipway_v1_UploadResult, _slipway_v1_UploadChunk__Output, _slipway_v1_UploadResult__Output>
  Watch: MethodDefinition<_slipway_v1_WatchRequest, _slipway_v1_DeployEvent, _slipway_v1_WatchRequest__Output, _slipway_v1_DeployEvent__Output>
}
