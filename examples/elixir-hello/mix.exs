# elixir-hello: a mix release that slipway deploys, hot-swaps, and upgrades
# in place with a relup. No dependencies (no hex): the slipway kit in
# lib/slipway/ and rel/ uses only OTP and Elixir's standard library.
defmodule ElixirHello.MixProject do
  use Mix.Project

  # One source for the version: slipway build checks out the tag, and the
  # tag's VERSION file says which version this is.
  @version "VERSION" |> File.read!() |> String.trim()

  def project do
    [
      app: :elixir_hello,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      # sasl is in the release, loaded (not a dependency of the app: Slipway.Relup starts it).
      xref: [exclude: [:release_handler, :systools]],
      aliases: [compile: ["compile", &appup/1]],
      releases: [
        elixir_hello: [
          # The release goes to ./release (slipway.yaml's build.include).
          path: "release",
          include_executables_for: [:unix],
          # sasl (release_handler) is started by Slipway.Relup.prepare/0,
          # once its releases_dir points at a directory the app may write.
          applications: [sasl: :load]
        ]
      ]
    ]
  end

  def application do
    [mod: {ElixirHello.Application, []}, extra_applications: [:logger]]
  end

  # The appup of this version (ebin/elixir_hello.appup): from and back to
  # any earlier version, the counter's state goes through code_change/3;
  # the other modules are reloaded as they are. Slipway.Relup makes the
  # relup from it on the host, at the upgrade.
  defp appup(_args) do
    update = "{update,'Elixir.ElixirHello.Counter',{advanced,[]}}"
    load = Enum.map_join(["Elixir.ElixirHello.Router"], ",", &"{load_module,'#{&1}'}")
    # <<".*">>: a regular expression (a binary) for "any version".
    text = ~s({"#{@version}",\n [{<<".*">>,[#{load},#{update}]}],\n [{<<".*">>,[#{load},#{update}]}]}.\n)
    File.write!(Path.join(Mix.Project.compile_path(), "elixir_hello.appup"), text)
  end
end
