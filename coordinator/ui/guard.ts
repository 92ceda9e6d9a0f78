// Who may talk to `slipway ui`'s HTTP server. On loopback without a token:
// anyone on this machine, but only under a loopback Host name (a web page
// elsewhere cannot reach it through DNS rebinding). With a token (required
// beyond loopback): `Authorization: Bearer <token>`, or the cookie a visit
// to /?token=<token> sets. Actions (POST) also need the page's own header
// and origin, which another site's page cannot send.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'slipway_ui';
export const ACTION_HEADER = 'x-slipway-ui';

export class Guard {
  private readonly digest?: Buffer;

  constructor(token: string | undefined, private readonly loopback: boolean) {
    this.digest = token ? sha(token) : undefined;
  }

  get needsToken(): boolean {
    return this.digest !== undefined;
  }

  matches(candidate: string | undefined): boolean {
    if (!this.digest || !candidate) return false;
    return timingSafeEqual(sha(candidate), this.digest);
  }

  /** Why the request may not go on (401 or 403), or undefined. */
  refuse(req: IncomingMessage): { status: number; message: string } | undefined {
    if (this.digest) {
      const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!this.matches(auth) && !this.matches(cookie(req, COOKIE))) {
        return { status: 401, message: 'slipway ui needs its token: open /?token=<the token in --token-file>, or send Authorization: Bearer <token>\n' };
      }
    } else if (this.loopback && !loopbackHostHeader(req.headers.host)) {
      return { status: 403, message: `slipway ui answers only to a loopback host name (127.0.0.1, localhost, [::1]), not ${req.headers.host ?? 'a request without Host'}\n` };
    }
    return undefined;
  }

  /** An action must come from the page itself: its header, and (when sent) its own origin. */
  refuseAction(req: IncomingMessage): string | undefined {
    if (req.headers[ACTION_HEADER] !== '1') return `an action needs the header ${ACTION_HEADER}: 1 (the page sends it)`;
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) return `an action from another origin (${origin}) is refused`;
    return undefined;
  }
}

function sha(s: string): Buffer {
  return createHash('sha256').update(s.trim()).digest();
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function loopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
