using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Hurd.Translators.Hosting;

/// <summary>
/// Finds and starts translator programs. The Hurd keeps them in /hurd (/hurd/hello,
/// /hurd/tmpfs); here a translator NAME is the program NAME.dll built into
/// artifacts/bin/*/release/ next to this SDK, so `hello`, `/hurd/hello` and a path work.
/// </summary>
public static partial class TranslatorLauncher
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
    public static Process? Start(string[] argv, IReadOnlyDictionary<string, string> environment, out string? error) =>
        Start(argv, environment, null, out error);

    /// <summary>
    /// Like <see cref="Start(string[], IReadOnlyDictionary{string, string}, out string?)"/>, running the child as
    /// <paramref name="runAs"/> (uid, gid, no supplementary groups) when given: the process switches ids before it execs
    /// the translator (through util-linux <c>setpriv</c>, which execs in place, so the child's pid is the translator's).
    /// Switching needs root; HOME and DOTNET_CLI_HOME are set to /tmp for the new user.
    /// </summary>
    public static Process? Start(string[] argv, IReadOnlyDictionary<string, string> environment, (uint Uid, uint Gid)? runAs, out string? error)
    {
        error = null;
        var cmd = Resolve(argv[0]);
        if (cmd is null) { error = $"{argv[0]}: no such translator"; return null; }
        ProcessStartInfo psi;
        if (runAs is { } who)
        {
            string? setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv" }.FirstOrDefault(File.Exists);
            if (setpriv is null) { error = $"{argv[0]}: cannot run as uid {who.Uid}: setpriv (util-linux) not found"; return null; }
            psi = new ProcessStartInfo(setpriv) { UseShellExecute = false, WorkingDirectory = "/" };
            foreach (var a in new[] { $"--reuid={who.Uid}", $"--regid={who.Gid}", "--clear-groups", "--", cmd[0] }) psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = "/tmp";
            psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
        }
        else
        {
            psi = new ProcessStartInfo(cmd[0]) { UseShellExecute = false, WorkingDirectory = "/" };
        }
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

    /// <summary>chown(2) of <paramref name="path"/>; the errno on failure.</summary>
    internal static int Chown(string path, uint uid, uint gid) => chown(path, uid, gid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int chown(string path, uint owner, uint group);

    /// <summary>The owner, group and permission bits of <paramref name="path"/> (following symlinks); the errno on failure.</summary>
    internal static unsafe int StatOwner(string path, out uint uid, out uint gid, out uint mode)
    {
        uid = gid = mode = 0;
        // struct statx: stx_uid at offset 20, stx_gid at 24, stx_mode (u16) at 28.
        byte* buf = stackalloc byte[256];
        if (statx(-100 /* AT_FDCWD */, path, 0, 0x2 | 0x8 | 0x10 /* STATX_MODE | STATX_UID | STATX_GID */, buf) != 0)
            return Marshal.GetLastPInvokeError();
        uid = *(uint*)(buf + 20);
        gid = *(uint*)(buf + 24);
        mode = *(ushort*)(buf + 28) & 0xFFFu;
        return 0;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);
}
