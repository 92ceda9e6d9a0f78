defmodule Slipway.Listener do
  @moduledoc """
  A small HTTP/1.1 server on an inherited socket (`:gen_tcp` with
  `{:fd, fd}`; by hand: `port`), one process per connection, every answer
  with `Connection: close`. `handler` gets `%{method, path, query,
  headers}` and returns `{status, body}`.

  SIGTERM (slipway's stop signal) drains: the listening socket is closed
  (new connections go to the version that replaces this one: both accept
  from the same queue), requests in flight finish, then the node stops.
  With Plug/Bandit, Cowboy or Phoenix, do the same with their options:
  Bandit/ThousandIsland `transport_options: [fd: fd]` with `port: 0`,
  Cowboy/Ranch `socket_opts: [fd: fd, port: 0]`, and a SIGTERM handler
  that suspends the listener and waits for connections to end.
  """
  use GenServer
  require Logger

  @drain_ms 25_000

  def child_spec(opts), do: %{id: {__MODULE__, opts[:name]}, start: {__MODULE__, :start_link, [opts]}}
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    tcp = [:binary, packet: :http_bin, active: false, reuseaddr: true, backlog: 1024]
    {:ok, sock} =
      case Slipway.listen_fd(opts[:name]) do
        {:ok, fd} -> :gen_tcp.listen(0, [{:fd, fd} | tcp])
        :none -> :gen_tcp.listen(opts[:port], tcp)
      end
    {:ok, conns} = Task.Supervisor.start_link()
    for _ <- 1..4, do: spawn_link(fn -> accept(sock, conns, opts[:handler]) end)
    {:ok, _} = System.trap_signal(:sigterm, :slipway_drain, fn -> GenServer.cast(__MODULE__, :drain) end)
    # Erlang's own SIGTERM handler (an immediate init:stop) would run beside ours: the drain decides when to stop.
    _ = :gen_event.delete_handler(:erl_signal_server, :erl_signal_handler, :ok)
    {:ok, %{sock: sock, conns: conns}}
  end

  @impl true
  def handle_cast(:drain, s) do
    Logger.info("SIGTERM: draining (no new connections; #{length(Task.Supervisor.children(s.conns))} in flight)")
    :gen_tcp.close(s.sock)
    deadline = System.monotonic_time(:millisecond) + @drain_ms
    wait_idle(s.conns, deadline)
    System.stop(0)
    {:noreply, s}
  end

  defp wait_idle(conns, deadline) do
    if Task.Supervisor.children(conns) != [] and System.monotonic_time(:millisecond) < deadline do
      Process.sleep(20)
      wait_idle(conns, deadline)
    end
  end

  defp accept(sock, conns, handler) do
    case :gen_tcp.accept(sock) do
      {:ok, c} ->
        {:ok, pid} = Task.Supervisor.start_child(conns, fn -> serve(handler) end)
        :ok = :gen_tcp.controlling_process(c, pid)
        send(pid, {:go, c})
        accept(sock, conns, handler)

      # Closed by the drain: this acceptor is done.
      {:error, :closed} ->
        :ok

      {:error, _} ->
        accept(sock, conns, handler)
    end
  end

  defp serve(handler) do
    receive do
      {:go, c} ->
        with {:ok, req} <- read_request(c) do
          {status, body} =
            try do
              handler.(req)
            rescue
              e -> {500, "error: #{Exception.message(e)}\n"}
            end
          :gen_tcp.send(c, [
            "HTTP/1.1 #{status} #{if status < 400, do: "OK", else: "Error"}\r\n",
            "content-type: text/plain\r\ncontent-length: #{byte_size(body)}\r\nconnection: close\r\n\r\n",
            body
          ])
        end
        :gen_tcp.close(c)
    after
      5_000 -> :ok
    end
  end

  defp read_request(c) do
    case :gen_tcp.recv(c, 0, 10_000) do
      {:ok, {:http_request, method, {:abs_path, target}, _}} ->
        {path, query} =
          case String.split(target, "?", parts: 2) do
            [p, q] -> {p, q}
            [p] -> {p, ""}
          end
        headers(c, %{method: method, path: path, query: query, headers: []})

      _ ->
        :error
    end
  end

  defp headers(c, req) do
    case :gen_tcp.recv(c, 0, 10_000) do
      {:ok, {:http_header, _, name, _, value}} -> headers(c, %{req | headers: [{name, value} | req.headers]})
      {:ok, :http_eoh} -> {:ok, req}
      _ -> :error
    end
  end
end
