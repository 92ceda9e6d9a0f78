defmodule ElixirHello.Router do
  @moduledoc """
  The answers: `/` and `/version` (the running release's version and the
  OS pid: the same pid across a relup), `/state` (the counter's state),
  `/healthz`, `/sleep?ms=N` (an in-flight request for drain tests).
  """
  alias ElixirHello.Counter

  def handle(%{path: "/healthz"}), do: {200, "ok\n"}

  def handle(%{path: "/state"}) do
    s = Counter.state()
    {200, ~s({"hits":#{s.hits},"started":"#{s.started}","changes":[#{Enum.map_join(s.changes, ",", &inspect/1)}]}\n)}
  end

  def handle(%{path: "/sleep", query: q}) do
    ms = q |> URI.decode_query() |> Map.get("ms", "100") |> String.to_integer() |> min(60_000)
    Process.sleep(ms)
    {200, "slept #{ms}\n"}
  end

  def handle(%{path: p}) when p in ["/", "/version"] do
    n = Counter.hit()
    {200, ~s({"app":"elixir_hello","version":"#{Slipway.Relup.current_version()}","pid":#{System.pid()},"node":"#{node()}","hits":#{n}}\n)}
  end

  def handle(_), do: {404, "not found\n"}
end
