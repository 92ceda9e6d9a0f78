// A hint for a version that failed to start because it bound its port
// itself: under slipway the agent holds the port and passes the socket
// (LISTEN_FDS, fds 3, 4, …), so an app that binds it gets "Address already in
// use". Pure: the failure's words and the app's last output in, words out.

/** How Node, Python, Go, Ruby, Erlang and others say that a port is taken. */
const IN_USE = /EADDRINUSE|address already in use|eaddrinuse/i;

export interface ListenLike {
  name: string;
  port: number;
}

/** The hint for this output, or undefined when the output does not say "address in use". */
export function addressInUseHint(output: readonly string[], listen: readonly ListenLike[]): string | undefined {
  if (!output.some((l) => IN_USE.test(l))) return undefined;
  if (listen.length === 0) {
    return 'the app found its port taken ("address already in use"): by another process, or by the old version until it stops; '
      + 'to share one socket between versions, set run.listen and take the socket the agent passes (LISTEN_FDS, fd 3…): see docs/apps.md';
  }
  const fds = listen.map((l, i) => `fd ${3 + i} for ${l.name}, port ${l.port}`).join('; ');
  return `the app binds its port itself ("address already in use"), but the agent holds it: take the socket the agent passes instead (LISTEN_FDS: ${fds}): see docs/apps.md`;
}

/** `message`, with the hint after it when the output calls for one. */
export function withAddressInUseHint(message: string, output: readonly string[], listen: readonly ListenLike[]): string {
  const hint = addressInUseHint(output, listen);
  return hint ? `${message}; ${hint}` : message;
}
