// Fetch: the agent pulls a release from an artifact store (a URL the
// coordinator names) into its store, under Upload's rules (the download
// itself is agent/storage/download/). Progress streams back while the bytes
// come, at most every PROGRESS_MS; the last message has done = true.
import * as grpc from '@grpc/grpc-js';
import { serverStream } from '../rpc.js';
import type { ReleaseFetcher } from '../../storage/download/index.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { FetchRequest__Output } from '../../../proto/gen/slipway/v1/FetchRequest.js';
import type { FetchProgress } from '../../../proto/gen/slipway/v1/FetchProgress.js';
import { invalid } from '../../../common/errors.js';

export interface FetchHandlerDeps {
  /** None: the agent answers UNIMPLEMENTED and the coordinator pushes. */
  fetcher?: Pick<ReleaseFetcher, 'fetch'>;
  log: Logger;
}

const PROGRESS_MS = 250;

export function fetchHandlers(deps: FetchHandlerDeps): Pick<AgentHandlers, 'Fetch'> {
  const fetcher = deps.fetcher;
  if (!fetcher) {
    return { Fetch: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'this agent does not fetch from an artifact store; push the release' }) };
  }
  return {
    Fetch: serverStream(deps.log, 'Fetch', async (req: FetchRequest__Output, call: grpc.ServerWritableStream<FetchRequest__Output, FetchProgress>) => {
      const meta = req.meta;
      if (!meta) throw invalid('Fetch needs the release meta (app, version, sha256, size)');
      if (!req.url) throw invalid('Fetch needs the URL of the release in the artifact store');
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      let last = 0;
      const out = await fetcher.fetch({
        app: meta.app, version: meta.version, sha256: meta.sha256, size: Number(meta.size),
        signature: meta.signature, key_id: meta.key_id, manifest_sha256: meta.manifest_sha256,
      }, req.url, (p) => {
        const now = Date.now();
        if (now - last < PROGRESS_MS) return;
        last = now;
        call.write({ sha256: meta.sha256, bytes_received: p.received, size: p.size, resumes: p.resumes, bytes_downloaded: p.downloaded });
      }, ac.signal);
      call.write({
        sha256: out.meta.sha256, bytes_received: out.alreadyStored ? 0 : out.meta.size, size: out.meta.size,
        already_stored: out.alreadyStored, done: true, resumes: out.resumes, bytes_downloaded: out.downloaded,
      });
    }),
  };
}
