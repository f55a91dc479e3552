using System.Diagnostics;

namespace Hurd.Translators.Hosting;

/// <summary>
/// Finds and starts translator programs. The Hurd keeps them in /hurd (/hurd/hello,
/// /hurd/tmpfs); here a translator NAME is the program NAME.dll built into
/// artifacts/bin/*/release/ next to this SDK, so `hello`, `/hurd/hello` and a path work.
/// </summary>
public static class TranslatorLauncher
{
    /// <summary>The artifacts/bin folder this assembly was built into.</summary>
    public static string ArtifactsBin => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));

    /// <summary>The command (program and first arguments) that runs translator <paramref name="name"/>, or null if there is none.</summary>
    public static string[]? Resolve(string name)
    {
        if (name.StartsWith("/hurd/", StringComparison.Ordinal)) name = name["/hurd/".Length..];
        if (name.Contains('/'))
        {
            if (!File.Exists(name)) return null;
            return name.EndsWith(".dll", StringComparison.Ordinal) ? [DotnetHost, Path.GetFullPath(name)] : [Path.GetFullPath(name)];
        }
        if (!Directory.Exists(ArtifactsBin)) return null;
        foreach (var config in new[] { "release", "debug" })
            foreach (var dir in Directory.EnumerateDirectories(ArtifactsBin))
            {
                string dll = Path.Combine(dir, config, name + ".dll");
                if (File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
                    return [DotnetHost, dll];
            }
        return null;
    }

    /// <summary>The dotnet host running this process, so children use the same runtime.</summary>
    public static string DotnetHost =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>Splits an argz ("prog\0arg\0") into its strings.</summary>
    public static string[] SplitArgz(ReadOnlySpan<byte> argz)
    {
        var list = new List<string>();
        while (!argz.IsEmpty)
        {
            int z = argz.IndexOf((byte)0);
            if (z < 0) z = argz.Length;
            list.Add(System.Text.Encoding.UTF8.GetString(argz[..z]));
            argz = z < argz.Length ? argz[(z + 1)..] : default;
        }
        return list.ToArray();
    }

    /// <summary>Joins strings into an argz.</summary>
    public static byte[] JoinArgz(IEnumerable<string> args)
    {
        var ms = new MemoryStream();
        foreach (var a in args) { var b = System.Text.Encoding.UTF8.GetBytes(a); ms.Write(b); ms.WriteByte(0); }
        return ms.ToArray();
    }

    /// <summary>
    /// Starts translator <paramref name="argv"/> (argv[0] a translator name) as a child process with
    /// <paramref name="environment"/> added; its standard streams are this process's.
    /// </summary>
    public static Process? Start(string[] argv, IReadOnlyDictionary<string, string> environment, out string? error)
    {
        error = null;
        var cmd = Resolve(argv[0]);
        if (cmd is null) { error = $"{argv[0]}: no such translator"; return null; }
        var psi = new ProcessStartInfo(cmd[0]) { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in cmd.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        try { return Process.Start(psi); }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            error = $"{argv[0]}: {ex.Message}";
            return null;
        }
    }
}
