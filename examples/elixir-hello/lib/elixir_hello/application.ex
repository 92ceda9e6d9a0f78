defmodule ElixirHello.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    # Before anything else: release_handler on the app's own writable dir.
    :ok = Slipway.Relup.prepare()

    children = [
      ElixirHello.Counter,
      {Slipway.Listener, name: "http", port: 4100, handler: &ElixirHello.Router.handle/1}
    ]

    with {:ok, pid} <- Supervisor.start_link(children, strategy: :one_for_one, name: ElixirHello.Supervisor) do
      # Serving: the socket is accepted on. SIGTERM drains (Slipway.Listener).
      Slipway.notify_ready()
      {:ok, pid}
    end
  end
end
