defmodule Slipway.Epmd do
  @moduledoc """
  Distribution without the epmd daemon (`-epmd_module Elixir.Slipway.Epmd
  -start_epmd false`, set by rel/env.sh.eex): epmd would start on the first
  node, re-parent itself to PID 1 and outlive the app (and `slipway stop`).
  Instead each node writes its distribution port to a file named after the
  node under `$SLIPWAY_TMP_DIR/epmd/`, and a node that connects (an rpc
  helper, a remote console, the upgrade command) reads it there: only
  processes of this app, running as its user, can find the node.

  It runs before the file server does (distribution starts early in the
  kernel): files are read and written with `:prim_file`.
  """

  defp dir, do: Path.join(System.get_env("SLIPWAY_TMP_DIR") || "/tmp", "epmd")
  defp file(name), do: Path.join(dir(), to_string(name))

  def start_link, do: :ignore

  # Listen on any free port; the file says which.
  def listen_port_please(_name, _host), do: {:ok, 0}

  def register_node(name, port), do: register_node(name, port, :inet_tcp)

  def register_node(name, port, _driver) do
    # Helpers that only connect out (bin/app rpc, remote) need no entry.
    if String.starts_with?(to_string(name), ["rpc-", "rem-"]), do: {:ok, 1}, else: write_port(name, port)
  end

  defp write_port(name, port) do
    _ = :prim_file.make_dir(dir())
    tmp = file(name) <> ".tmp"
    :ok = :prim_file.write_file(tmp, Integer.to_string(port))
    :ok = :prim_file.rename(tmp, file(name))
    {:ok, rem(System.os_time(), 4_000_000_000) + 4}
  end

  def port_please(name, _host), do: port_please(name, :ignored, :infinity)

  def port_please(name, _host, _timeout) do
    case :prim_file.read_file(file(name)) do
      {:ok, port} -> {:port, String.to_integer(port), 6}
      _ -> :noport
    end
  end

  def address_please(name, host, family), do: :erl_epmd.address_please(name, host, family)

  def names(_host) do
    case :prim_file.list_dir(dir()) do
      {:ok, files} ->
        {:ok, for(f <- Enum.map(files, &to_string/1), not String.ends_with?(f, ".tmp"), {:port, p, _} <- [port_please(f, nil, nil)], do: {to_charlist(f |> String.split("@") |> hd()), p})}

      _ ->
        {:error, :address}
    end
  end
end
