namespace Hurd.Cli;

/// <summary>
/// Where translator programs are: the Hurd keeps them in /hurd (/hurd/hello, /hurd/ext2fs).
/// Here a translator NAME is the assembly NAME.dll built into artifacts/bin/*/release/, so
/// `hello`, `/hurd/hello` and a path to a program all work.
/// </summary>
public static class TranslatorPaths
{
    /// <summary>The artifacts/bin folder this CLI was built into.</summary>
    public static string ArtifactsBin =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));

    /// <summary>
    /// The command line (program and its first arguments) that runs translator <paramref name="name"/>,
    /// or null when no such translator exists.
    /// </summary>
    public static string[]? Resolve(string name)
    {
        if (name.StartsWith("/hurd/", StringComparison.Ordinal)) name = name["/hurd/".Length..];
        if (name.Contains('/'))
        {
            if (!File.Exists(name)) return null;
            return name.EndsWith(".dll", StringComparison.Ordinal) ? [DotnetHost, Path.GetFullPath(name)] : [Path.GetFullPath(name)];
        }
        foreach (var config in new[] { "release", "debug" })
        {
            if (!Directory.Exists(ArtifactsBin)) break;
            // A project that references an executable gets a copy of it (possibly stale) beside its own: prefer the
            // folder where NAME is the only program, i.e. the executable's own build output.
            string? copy = null;
            foreach (var dir in Directory.EnumerateDirectories(ArtifactsBin))
            {
                string dll = Path.Combine(dir, config, name + ".dll");
                if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))) continue;
                if (Directory.EnumerateFiles(Path.Combine(dir, config), "*.runtimeconfig.json").Take(2).Count() == 1) return [DotnetHost, dll];
                copy ??= dll;
            }
            if (copy is not null) return [DotnetHost, copy];
        }
        return null;
    }

    /// <summary>The dotnet host running this process (so daemons use the same runtime).</summary>
    public static string DotnetHost => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>The names of the translators that are built, for help texts and errors.</summary>
    public static IEnumerable<string> Known()
    {
        if (!Directory.Exists(ArtifactsBin)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(ArtifactsBin))
        {
            string rel = Path.Combine(dir, "release");
            if (!Directory.Exists(rel)) continue;
            foreach (var rc in Directory.EnumerateFiles(rel, "*.runtimeconfig.json"))
            {
                string n = Path.GetFileName(rc)[..^".runtimeconfig.json".Length];
                if (n is not "hurd" and not "testhost" && !n.StartsWith("Hurd.", StringComparison.Ordinal)) yield return n;
            }
        }
    }
}
