import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ActivateRequest as _slipway_v1_ActivateRequest, ActivateRequest__Output as _slipway_v1_ActivateRequest__Output } from './slipway/v1/ActivateRequest.js';
import type { Activation as _slipway_v1_Activation, Activation__Output as _slipway_v1_Activation__Output } from './slipway/v1/Activation.js';
import type { AgentClient as _slipway_v1_AgentClient, AgentDefinition as _slipway_v1_AgentDefinition } from './slipway/v1/Agent.js';
import type { AgentInfo as _slipway_v1_AgentInfo, AgentInfo__Output as _slipway_v1_AgentInfo__Output } from './slipway/v1/AgentInfo.js';
import type { AppStatus as _slipway_v1_AppStatus, AppStatus__Output as _slipway_v1_AppStatus__Output } from './slipway/v1/AppStatus.js';
import type { ControlRequest as _slipway_v1_ControlRequest, ControlRequest__Output as _slipway_v1_ControlRequest__Output } from './slipway/v1/ControlRequest.js';
import type { DeployEvent as _slipway_v1_DeployEvent, DeployEvent__Output as _slipway_v1_DeployEvent__Output } from './slipway/v1/DeployEvent.js';
import type { EnvResponse as _slipway_v1_EnvResponse, EnvResponse__Output as _slipway_v1_EnvResponse__Output } from './slipway/v1/EnvResponse.js';
import type { FetchProgress as _slipway_v1_FetchProgress, FetchProgress__Output as _slipway_v1_FetchProgress__Output } from './slipway/v1/FetchProgress.js';
import type { FetchRequest as _slipway_v1_FetchRequest, FetchRequest__Output as _slipway_v1_FetchRequest__Output } from './slipway/v1/FetchRequest.js';
import type { FileSystemFact as _slipway_v1_FileSystemFact, FileSystemFact__Output as _slipway_v1_FileSystemFact__Output } from './slipway/v1/FileSystemFact.js';
import type { GetEnvRequest as _slipway_v1_GetEnvRequest, GetEnvRequest__Output as _slipway_v1_GetEnvRequest__Output } from './slipway/v1/GetEnvRequest.js';
import type { HistoryEntry as _slipway_v1_HistoryEntry, HistoryEntry__Output as _slipway_v1_HistoryEntry__Output } from './slipway/v1/HistoryEntry.js';
import type { HistoryRequest as _slipway_v1_HistoryRequest, HistoryRequest__Output as _slipway_v1_HistoryRequest__Output } from './slipway/v1/HistoryRequest.js';
import type { HistoryResponse as _slipway_v1_HistoryResponse, HistoryResponse__Output as _slipway_v1_HistoryResponse__Output } from './slipway/v1/HistoryResponse.js';
import type { HostFacts as _slipway_v1_HostFacts, HostFacts__Output as _slipway_v1_HostFacts__Output } from './slipway/v1/HostFacts.js';
import type { HostInfo as _slipway_v1_HostInfo, HostInfo__Output as _slipway_v1_HostInfo__Output } from './slipway/v1/HostInfo.js';
import type { ListReleasesRequest as _slipway_v1_ListReleasesRequest, ListReleasesRequest__Output as _slipway_v1_ListReleasesRequest__Output } from './slipway/v1/ListReleasesRequest.js';
import type { ListReleasesResponse as _slipway_v1_ListReleasesResponse, ListReleasesResponse__Output as _slipway_v1_ListReleasesResponse__Output } from './slipway/v1/ListReleasesResponse.js';
import type { LockRequest as _slipway_v1_LockRequest, LockRequest__Output as _slipway_v1_LockRequest__Output } from './slipway/v1/LockRequest.js';
import type { LockResponse as _slipway_v1_LockResponse, LockResponse__Output as _slipway_v1_LockResponse__Output } from './slipway/v1/LockResponse.js';
import type { LogLine as _slipway_v1_LogLine, LogLine__Output as _slipway_v1_LogLine__Output } from './slipway/v1/LogLine.js';
import type { LogsRequest as _slipway_v1_LogsRequest, LogsRequest__Output as _slipway_v1_LogsRequest__Output } from './slipway/v1/LogsRequest.js';
import type { PruneRequest as _slipway_v1_PruneRequest, PruneRequest__Output as _slipway_v1_PruneRequest__Output } from './slipway/v1/PruneRequest.js';
import type { PruneResponse as _slipway_v1_PruneResponse, PruneResponse__Output as _slipway_v1_PruneResponse__Output } from './slipway/v1/PruneResponse.js';
import type { PrunedItem as _slipway_v1_PrunedItem, PrunedItem__Output as _slipway_v1_PrunedItem__Output } from './slipway/v1/PrunedItem.js';
import type { ReleaseInfo as _slipway_v1_ReleaseInfo, ReleaseInfo__Output as _slipway_v1_ReleaseInfo__Output } from './slipway/v1/ReleaseInfo.js';
import type { RunTaskRequest as _slipway_v1_RunTaskRequest, RunTaskRequest__Output as _slipway_v1_RunTaskRequest__Output } from './slipway/v1/RunTaskRequest.js';
import type { SetEnvRequest as _slipway_v1_SetEnvRequest, SetEnvRequest__Output as _slipway_v1_SetEnvRequest__Output } from './slipway/v1/SetEnvRequest.js';
import type { StatusRequest as _slipway_v1_StatusRequest, StatusRequest__Output as _slipway_v1_StatusRequest__Output } from './slipway/v1/StatusRequest.js';
import type { StatusResponse as _slipway_v1_StatusResponse, StatusResponse__Output as _slipway_v1_StatusResponse__Output } from './slipway/v1/StatusResponse.js';
import type { TaskInput as _slipway_v1_TaskInput, TaskInput__Output as _slipway_v1_TaskInput__Output } from './slipway/v1/TaskInput.js';
import type { TaskOutput as _slipway_v1_TaskOutput, TaskOutput__Output as _slipway_v1_TaskOutput__Output } from './slipway/v1/TaskOutput.js';
import type { UnlockRequest as _slipway_v1_UnlockRequest, UnlockRequest__Output as _slipway_v1_UnlockRequest__Output } from './slipway/v1/UnlockRequest.js';
import type { UploadChunk as _slipway_v1_UploadChunk, UploadChunk__Output as _slipway_v1_UploadChunk__Output } from './slipway/v1/UploadChunk.js';
import type { UploadMeta as _slipway_v1_UploadMeta, UploadMeta__Output as _slipway_v1_UploadMeta__Output } from './slipway/v1/UploadMeta.js';
import type { UploadResult as _slipway_v1_UploadResult, UploadResult__Output as _slipway_v1_UploadResult__Output } from './slipway/v1/UploadResult.js';
import type { UploadTicket as _slipway_v1_UploadTicket, UploadTicket__Output as _slipway_v1_UploadTicket__Output } from './slipway/v1/UploadTicket.js';
import type { WatchRequest as _slipway_v1_WatchRequest, WatchRequest__Output as _slipway_v1_WatchRequest__Output } from './slipway/v1/WatchRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  slipway: {
    v1: {
      ActivateRequest: MessageTypeDefinition<_slipway_v1_ActivateRequest, _slipway_v1_ActivateRequest__Output>
      Activation: MessageTypeDefinition<_slipway_v1_Activation, _slipway_v1_Activation__Output>
      Agent: SubtypeConstructor<typeof grpc.Client, _slipway_v1_AgentClient> & { service: _slipway_v1_AgentDefinition }
      AgentInfo: MessageTypeDefinition<_slipway_v1_AgentInfo, _slipway_v1_AgentInfo__Output>
      AppStatus: MessageTypeDefinition<_slipway_v1_AppStatus, _slipway_v1_AppStatus__Output>
      ControlRequest: MessageTypeDefinition<_slipway_v1_ControlRequest, _slipway_v1_ControlRequest__Output>
      DeployEvent: MessageTypeDefinition<_slipway_v1_DeployEvent, _slipway_v1_DeployEvent__Output>
      EnvResponse: MessageTypeDefinition<_slipway_v1_EnvResponse, _slipway_v1_EnvResponse__Output>
      FetchProgress: MessageTypeDefinition<_slipway_v1_FetchProgress, _slipway_v1_FetchProgress__Output>
      FetchRequest: MessageTypeDefinition<_slipway_v1_FetchRequest, _slipway_v1_FetchRequest__Output>
      FileSystemFact: MessageTypeDefinition<_slipway_v1_FileSystemFact, _slipway_v1_FileSystemFact__Output>
      GetEnvRequest: MessageTypeDefinition<_slipway_v1_GetEnvRequest, _slipway_v1_GetEnvRequest__Output>
      HistoryEntry: MessageTypeDefinition<_slipway_v1_HistoryEntry, _slipway_v1_HistoryEntry__Output>
      HistoryRequest: MessageTypeDefinition<_slipway_v1_HistoryRequest, _slipway_v1_HistoryRequest__Output>
      HistoryResponse: MessageTypeDefinition<_slipway_v1_HistoryResponse, _slipway_v1_HistoryResponse__Output>
      HostFacts: MessageTypeDefinition<_slipway_v1_HostFacts, _slipway_v1_HostFacts__Output>
      HostInfo: MessageTypeDefinition<_slipway_v1_HostInfo, _slipway_v1_HostInfo__Output>
      ListReleasesRequest: MessageTypeDefinition<_slipway_v1_ListReleasesRequest, _slipway_v1_ListReleasesRequest__Output>
      ListReleasesResponse: MessageTypeDefinition<_slipway_v1_ListReleasesResponse, _slipway_v1_ListReleasesResponse__Output>
      LockRequest: MessageTypeDefinition<_slipway_v1_LockRequest, _slipway_v1_LockRequest__Output>
      LockResponse: MessageTypeDefinition<_slipway_v1_LockResponse, _slipway_v1_LockResponse__Output>
      LogLine: MessageTypeDefinition<_slipway_v1_LogLine, _slipway_v1_LogLine__Output>
      LogsRequest: MessageTypeDefinition<_slipway_v1_LogsRequest, _slipway_v1_LogsRequest__Output>
      PruneRequest: MessageTypeDefinition<_slipway_v1_PruneRequest, _slipway_v1_PruneRequest__Output>
      PruneResponse: MessageTypeDefinition<_slipway_v1_PruneResponse, _slipway_v1_PruneResponse__Output>
      PrunedItem: MessageTypeDefinition<_slipway_v1_PrunedItem, _slipway_v1_PrunedItem__Output>
      ReleaseInfo: MessageTypeDefinition<_slipway_v1_ReleaseInfo, _slipway_v1_ReleaseInfo__Output>
      RunTaskRequest: MessageTypeDefinition<_slipway_v1_RunTaskRequest, _slipway_v1_RunTaskRequest__Output>
      SetEnvRequest: MessageTypeDefinition<_slipway_v1_SetEnvRequest, _slipway_v1_SetEnvRequest__Output>
      StatusRequest: MessageTypeDefinition<_slipway_v1_StatusRequest, _slipway_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_slipway_v1_StatusResponse, _slipway_v1_StatusResponse__Output>
      TaskInput: MessageTypeDefinition<_slipway_v1_TaskInput, _slipway_v1_TaskInput__Output>
      TaskOutput: MessageTypeDefinition<_slipway_v1_TaskOutput, _slipway_v1_TaskOutput__Output>
      UnlockRequest: MessageTypeDefinition<_slipway_v1_UnlockRequest, _slipway_v1_UnlockRequest__Output>
      UploadChunk: MessageTypeDefinition<_slipway_v1_UploadChunk, _slipway_v1_UploadChunk__Output>
      UploadMeta: MessageTypeDefinition<_slipway_v1_UploadMeta, _slipway_v1_UploadMeta__Output>
      UploadResult: MessageTypeDefinition<_slipway_v1_UploadResult, _slipway_v1_UploadResult__Output>
      UploadTicket: MessageTypeDefinition<_slipway_v1_UploadTicket, _slipway_v1_UploadTicket__Output>
      WatchRequest: MessageTypeDefinition<_slipway_v1_WatchRequest, _slipway_v1_WatchRequest__Output>
    }
  }
}

