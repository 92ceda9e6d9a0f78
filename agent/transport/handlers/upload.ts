// Upload and BeginUpload: a release's bytes into the store. Upload streams
// them over gRPC (the meta first, then data chunks). BeginUpload checks the
// meta as Upload's first message is checked (the store's open(): names,
// size, signature, disk space, dedupe), then answers either already_stored
// or a single-use token for the data port (agent/transport/data-port.ts).
import * as grpc from '@grpc/grpc-js';
import { SlipwayError, invalid } from '../../../common/errors.js';
import { peerIdentity } from '../../../common/credentials.js';
import { unary, toStatus } from '../rpc.js';
import type { ReleaseStore, StoredMeta, Upload, UploadRequest } from '../../storage/store.js';
import type { UploadPort } from '../data-port.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { UploadChunk__Output } from '../../../proto/gen/slipway/v1/UploadChunk.js';
import type { UploadMeta__Output } from '../../../proto/gen/slipway/v1/UploadMeta.js';
import type { UploadResult } from '../../../proto/gen/slipway/v1/UploadResult.js';
import type { UploadTicket } from '../../../proto/gen/slipway/v1/UploadTicket.js';

export interface UploadHandlerDeps {
  store: Pick<ReleaseStore, 'open'>;
  /** The data port; none with upload_listen: false (BeginUpload then answers UNIMPLEMENTED). */
  uploadPort?: Pick<UploadPort, 'issue' | 'port' | 'resume'>;
  log: Logger;
}

function request(meta: UploadMeta__Output): UploadRequest {
  return {
    app: meta.app, version: meta.version, sha256: meta.sha256, size: Number(meta.size),
    signature: meta.signature, key_id: meta.key_id, manifest_sha256: meta.manifest_sha256,
  };
}

function result(meta: StoredMeta, alreadyStored: boolean): UploadResult {
  return { sha256: meta.sha256, bytes_received: alreadyStored ? 0 : meta.size, already_stored: alreadyStored };
}

export function uploadHandlers(deps: UploadHandlerDeps): Pick<AgentHandlers, 'Upload' | 'BeginUpload'> {
  const port = deps.uploadPort;
  return {
    Upload: uploadHandler(deps),
    BeginUpload: port
      ? unary(deps.log, 'BeginUpload', async (req: UploadMeta__Output, call: grpc.ServerUnaryCall<UploadMeta__Output, UploadTicket>) => {
        // A cut-off upload of this release from this client: the rest of it, from the bytes already received.
        const resumed = port.resume(request(req), peerIdentity(call).fingerprint);
        if (resumed) return { already_stored: false, token: resumed.token, port: port.port, sha256: req.sha256, offset: resumed.offset };
        const opened = await deps.store.open(request(req));
        if ('stored' in opened) return { already_stored: true, token: '', port: 0, sha256: opened.stored.sha256 };
        let token: string;
        try {
          token = port.issue(opened.upload, peerIdentity(call).fingerprint);
        } catch (err) {
          await opened.upload.abort();
          throw err;
        }
        return { already_stored: false, token, port: port.port, sha256: opened.upload.sha256 };
      })
      // Without a data port, the answer an agent without BeginUpload gives: the client sends over Upload.
      : (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: 'this agent has no upload data port (upload_listen: false); use Upload' }),
  };
}

/** gRPC's Upload: the meta, then data chunks with backpressure from the store's file; committed at the stream's end. */
function uploadHandler(deps: UploadHandlerDeps): grpc.handleClientStreamingCall<UploadChunk__Output, UploadResult> {
  return (call, callback) => {
    let upload: Upload | undefined;
    let opening = false;
    let settled = false;
    const finish = (err: unknown, res?: UploadResult) => {
      if (settled) return;
      settled = true;
      if (err) {
        void upload?.abort();
        callback(toStatus(err, deps.log, 'Upload'));
      } else {
        callback(null, res);
      }
    };
    call.on('data', (chunk: UploadChunk__Output) => {
      if (settled) return;
      try {
        if (!upload) {
          if (opening) throw invalid('data arrived before the upload was ready');
          if (chunk.payload !== 'meta' || !chunk.meta) throw invalid('the first upload message must carry the release meta (app, version, sha256, size)');
          opening = true;
          call.pause();
          deps.store.open(request(chunk.meta)).then((opened) => {
            if ('stored' in opened) return finish(null, result(opened.stored, true));
            upload = opened.upload;
            // Cancelled while it opened: finish() ran before there was an upload to abort.
            if (settled) return void upload.abort();
            call.resume();
          }, (err: unknown) => finish(err));
          return;
        }
        if (chunk.payload !== 'data' || !chunk.data) throw invalid('after the meta, an upload carries only data');
        if (!upload.write(chunk.data)) {
          call.pause();
          upload.onDrain(() => call.resume());
        }
      } catch (err) {
        finish(err);
      }
    });
    call.on('end', () => {
      if (settled) return;
      if (!upload) return finish(invalid(opening ? 'the upload ended before it began' : 'the upload was empty: no meta was sent'));
      upload.commit().then((meta) => finish(null, result(meta, false)), (err: unknown) => finish(err));
    });
    call.on('cancelled', () => finish(new SlipwayError('SLIPWAY_ERR_CANCELLED', 'upload cancelled by the client')));
    call.on('error', (err) => finish(err));
  };
}
