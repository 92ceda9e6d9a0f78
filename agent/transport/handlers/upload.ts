// BeginUpload: the release meta checked as Upload's first message is (the
// store's open(): names, size, signature, disk space, dedupe), then either
// already_stored or a single-use token for the data port (agent/transport/data-port.ts).
import * as grpc from '@grpc/grpc-js';
import { peerIdentity } from '../../../common/credentials.js';
import { unary } from '../rpc.js';
import type { Agent } from '../../agent.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { UploadMeta__Output } from '../../../proto/gen/slipway/v1/UploadMeta.js';
import type { UploadTicket } from '../../../proto/gen/slipway/v1/UploadTicket.js';

export function uploadHandlers(agent: Agent): Pick<AgentHandlers, 'BeginUpload'> {
  const begin = unary(agent.log, 'BeginUpload', async (req: UploadMeta__Output, call: grpc.ServerUnaryCall<UploadMeta__Output, UploadTicket>) => {
    const port = agent.uploadPort!;
    const opened = await agent.store.open(req);
    if ('stored' in opened) return { already_stored: true, token: '', port: 0, sha256: opened.stored.sha256 };
    let token: string;
    try {
      token = port.issue(opened.upload, peerIdentity(call).fingerprint);
    } catch (err) {
      await opened.upload.abort();
      throw err;
    }
    return { already_stored: false, token, port: port.port, sha256: opened.upload.sha256 };
  });
  return {
    BeginUpload: (call, callback) => {
      // Without a data port, the answer an agent without BeginUpload gives: the client sends over Upload.
      if (!agent.uploadPort) return callback({ code: grpc.status.UNIMPLEMENTED, details: 'this agent has no upload data port (upload_listen: false); use Upload' });
      begin(call, callback);
    },
  };
}
