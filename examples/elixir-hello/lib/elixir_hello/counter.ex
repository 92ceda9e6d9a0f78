defmodule ElixirHello.Counter do
  @moduledoc """
  In-memory state that a relup keeps: the hits since the node started and
  each code change it went through (code_change/3 migrates the state).
  """
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, :ok, name: __MODULE__)
  def hit, do: GenServer.call(__MODULE__, :hit)
  def state, do: GenServer.call(__MODULE__, :state)

  @impl true
  def init(:ok), do: {:ok, %{hits: 0, started: Slipway.Relup.current_version(), changes: []}}

  @impl true
  def handle_call(:hit, _from, s), do: {:reply, s.hits + 1, %{s | hits: s.hits + 1}}
  def handle_call(:state, _from, s), do: {:reply, s, s}

  # Called during a relup with the new code loaded (down: {:down, _}); the app's vsn is already the target's.
  # The migration here: each change is recorded in the state (a field 0.1.0's state may lack).
  @impl true
  def code_change(old, s, _extra) do
    change = "#{if match?({:down, _}, old), do: "down", else: "up"} to #{Application.spec(:elixir_hello, :vsn)}"
    {:ok, Map.update(s, :changes, [change], &(&1 ++ [change]))}
  end
end
