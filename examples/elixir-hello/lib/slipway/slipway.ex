defmodule Slipway do
  @moduledoc """
  The slipway kit for BEAM releases (only OTP and Elixir's standard library;
  copy `lib/slipway/` and `rel/` into your project). The agent starts every
  version of the app with the sockets of `run.listen` already bound, as fds
  3, 4, … (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID: systemd's socket
  activation), and a pipe on NOTIFY_FD for readiness:

    * `listen_fd/1`: the inherited fd of a `run.listen` name;
      `:gen_tcp.listen(0, [{:fd, fd} | opts])` takes it (port 0: the port
      is the agent's). `Slipway.Listener` does that and drains on SIGTERM.
    * `notify_ready/0`: writes READY=1 to NOTIFY_FD, once the app serves.
    * `Slipway.Relup`: relups that write only into the app's own dirs.
  """

  @doc "The fd slipway passed under `name`; `:none` when run by hand (no LISTEN_FDS for this process)."
  @spec listen_fd(String.t()) :: {:ok, non_neg_integer()} | :none
  def listen_fd(name) do
    with n when is_binary(n) <- System.get_env("LISTEN_FDS"),
         true <- System.get_env("LISTEN_PID") == System.pid() do
      names = String.split(System.get_env("LISTEN_FDNAMES", ""), ":")
      count = String.to_integer(n)
      case Enum.find_index(names, &(&1 == name)) do
        i when is_integer(i) and i < count -> {:ok, 3 + i}
        # Sockets were passed, but none by that name: binding a port of our own would only hide the mistake.
        _ -> raise ArgumentError, "slipway passed the sockets #{inspect(names)}, none named #{inspect(name)}: check run.listen"
      end
    else
      _ -> :none
    end
  end

  @doc "Tells slipway the app is ready (READY=1 on NOTIFY_FD); a no-op when run by hand."
  @spec notify_ready() :: :ok
  def notify_ready do
    case System.get_env("NOTIFY_FD") do
      nil ->
        :ok

      fd ->
        # An fd port writes to the inherited pipe as it is (reopening /dev/fd/N would need the
        # pipe's owner, the agent, when the app runs as app_user). Output only: fd 0 is never read.
        port = Port.open({:fd, 0, String.to_integer(fd)}, [:out, :binary])
        Port.command(port, "READY=1\n")
        :ok
    end
  end
end
