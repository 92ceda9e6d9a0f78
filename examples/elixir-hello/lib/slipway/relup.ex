defmodule Slipway.Relup do
  @moduledoc """
  Hot code upgrades (relups) that write nothing into slipway's release
  directories, so they work as `app_user` (release dirs are read-only) and
  slipway's releases stay byte-identical to what was unpacked.

    * `prepare/0`, at the app's start: sasl's `releases_dir` points at a
      directory of this node under `$SLIPWAY_TMP_DIR` (the app's own,
      writable), where `release_handler:create_RELEASES/4` records the
      running release; then sasl (release_handler) starts. Nothing is
      written under the release root.
    * `upgrade/2`, through one rpc from `bin/slipway-upgrade` (slipway's
      upgrade command): the target release is already unpacked by slipway,
      so `release_handler:set_unpacked/2` names its lib dirs (never
      `unpack_release`, which writes into the root); the relup is made
      here with `systools:make_relup/4` from the two `.rel` files and the
      new version's `.appup`; `install_release/2` runs it. Going back to a
      version this node ran is the relup's downgrade. No `make_permanent`:
      which release starts after a restart is slipway's decision.
    * `current_version/0`: what runs now (the version probe prints it).
  """

  @doc "Points release_handler at this node's own releases dir and starts sasl."
  def prepare do
    dir = releases_dir()
    File.rm_rf!(dir)
    File.mkdir_p!(dir)
    remove_stale(Path.dirname(dir))
    remove_stale(Path.join(Path.dirname(Path.dirname(dir)), "epmd"))
    {name, vsn} = :init.script_id()
    root = to_string(:code.root_dir())
    rel = Path.join([root, "releases", to_string(vsn), "#{name}.rel"])
    :ok = :release_handler.create_RELEASES(to_charlist(root), to_charlist(dir), to_charlist(rel), [])
    # A downgrade back to this release needs its boot files beside RELEASES too.
    File.mkdir_p!(Path.join(dir, to_string(vsn)))
    for f <- ["start.boot", "sys.config"], src = Path.join([root, "releases", to_string(vsn), f]), File.exists?(src) do
      File.cp!(src, Path.join([dir, to_string(vsn), f]))
    end
    File.write!(Path.join(dir, "ROOTS"), :erlang.term_to_binary(%{to_string(vsn) => root}))
    Application.put_env(:sasl, :releases_dir, to_charlist(dir))
    {:ok, _} = Application.ensure_all_started(:sasl)
    :ok
  end

  @doc "The running release's version (after a relup: the new one)."
  def current_version do
    rels = :release_handler.which_releases()
    {_, vsn, _, _} = Enum.find(rels, &(elem(&1, 3) == :current)) || Enum.find(rels, &(elem(&1, 3) == :permanent))
    to_string(vsn)
  end

  # For bin/slipway-upgrade, through erl_call, which passes and prints strings as charlists.
  @doc false
  def rpc_upgrade(to, to_root) do
    {:ok, to_charlist(upgrade(to_string(to), to_string(to_root)))}
  rescue
    e -> {:error, to_charlist(Exception.message(e))}
  end

  @doc false
  def rpc_version, do: to_charlist(current_version())

  @doc """
  Upgrades (or downgrades) this node to `to`, whose release slipway unpacked
  at `to_root`. Returns what ran before; raises with the reason otherwise
  (nothing changed: release_handler checks everything before the point of
  no return).
  """
  def upgrade(to, to_root) do
    from = current_version()
    if from == to do
      "#{to} already runs"
    else
      rels = :release_handler.which_releases()
      unless Enum.any?(rels, &(to_string(elem(&1, 1)) == to)), do: unpack(to, to_root, from)
      case :release_handler.install_release(to_charlist(to), update_paths: true) do
        {:ok, _from, _} -> "#{from} -> #{to}"
        {:error, reason} -> raise "release_handler:install_release(#{to}) failed: #{inspect(reason)}; #{from} keeps running"
        other -> raise "release_handler:install_release(#{to}) said #{inspect(other)}; a restart of the node is needed for this change"
      end
    end
  end

  # The relup first (into a staging dir): when it cannot be made, release_handler has not heard of `to`.
  defp unpack(to, to_root, from) do
    dir = releases_dir()
    {name, _} = :init.script_id()
    new_rel = Path.join([to_root, "releases", to, "#{name}.rel"])
    unless File.regular?(new_rel), do: raise("#{new_rel} is missing: #{to_root} is not a #{name} #{to} release")
    roots = dir |> Path.join("ROOTS") |> File.read!() |> :erlang.binary_to_term() |> Map.put(to, to_root)
    old_rel = Path.join([roots[from], "releases", from, "#{name}.rel"])
    staging = Path.join(dir, ".staging-#{to}")
    File.rm_rf!(staging)
    File.mkdir_p!(staging)
    path = for root <- [to_root, roots[from]], do: to_charlist(Path.join(root, "lib/*/ebin"))
    opts = [{:path, path}, {:outdir, to_charlist(staging)}, :silent, :no_warn_sasl]
    case :systools.make_relup(to_charlist(Path.rootname(new_rel)), [to_charlist(Path.rootname(old_rel))], [to_charlist(Path.rootname(old_rel))], opts) do
      :ok -> :ok
      {:ok, _relup, _mod, _warnings} -> :ok
      {:error, mod, reason} -> raise "no relup from #{from} to #{to}: #{mod.format_error(reason)}"
      _ -> raise "no relup from #{from} to #{to} (systools:make_relup failed)"
    end
    {:ok, [{:release, _, _, apps}]} = :file.consult(new_rel)
    lib = to_charlist(Path.join(to_root, "lib"))
    lib_dirs = for app <- apps, do: {elem(app, 0), elem(app, 1), lib}
    case :release_handler.set_unpacked(to_charlist(new_rel), lib_dirs) do
      {:ok, _} -> :ok
      {:error, reason} -> raise "release_handler:set_unpacked(#{new_rel}) failed: #{inspect(reason)}"
    end
    out = Path.join(dir, to)
    File.cp!(Path.join(staging, "relup"), Path.join(out, "relup"))
    File.rm_rf!(staging)
    for f <- ["start.boot", "sys.config"], src = Path.join([to_root, "releases", to, f]), File.exists?(src) do
      File.cp!(src, Path.join(out, f))
    end
    File.write!(Path.join(dir, "ROOTS"), :erlang.term_to_binary(roots))
  end

  # This node's dir: one per node, so two versions side by side (a hot swap) never share a RELEASES file.
  defp releases_dir do
    base = System.get_env("SLIPWAY_TMP_DIR") || System.tmp_dir!()
    Path.join([base, "releases", to_string(node())])
  end

  # Entries of nodes whose OS process is gone (named <app>-<pid>@host, or <app>-<pid> in epmd/).
  defp remove_stale(parent) do
    entries = case File.ls(parent), do: ({:ok, l} -> l; _ -> [])
    for d <- entries, [_, pid] <- [Regex.run(~r/-(\d+)(@|$)/, d)], not File.exists?("/proc/#{pid}") do
      File.rm_rf(Path.join(parent, d))
    end
  end
end
