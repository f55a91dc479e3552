using System.Diagnostics;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Hurd.Security.Tests;

/// <summary>The outcome of a child process.</summary>
public sealed record Run(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Err}";
}

/// <summary>Who a child process runs as: root (the test's own user) or a user switched to with setpriv.</summary>
public sealed record User(string Name, params string[] SetprivArgs)
{
    public static readonly User Root = new("root");
    /// <summary>nobody (65534:65534) with no supplementary groups.</summary>
    public static readonly User Nobody = new("nobody", "--reuid=65534", "--regid=65534", "--clear-groups");
    /// <summary>nobody with the supplementary group users (100).</summary>
    public static readonly User NobodyInUsers = new("nobody+users", "--reuid=65534", "--regid=65534", "--groups=100");

    public override string ToString() => Name;
}

/// <summary>
/// A private world for one test: a temporary directory (mode 0755, so nobody can walk into it) for mount points, and a
/// private HURD_RUNTIME_DIR that every process the test starts inherits. Dispose takes everything down: every
/// process carrying the runtime directory in its environment is killed, every mount under the directory is lazily
/// unmounted, both directories are removed.
/// </summary>
public sealed class World : IDisposable
{
    public readonly string Dir;
    public readonly string Runtime;

    public World(string what)
    {
        Dir = Path.Combine(Path.GetTempPath(), $"hurd-sec-{what}-" + Guid.NewGuid().ToString("N")[..8]);
        Runtime = Dir + "-run";
        Directory.CreateDirectory(Dir);
        Directory.CreateDirectory(Runtime);
        File.SetUnixFileMode(Dir, (UnixFileMode)0x1ED);
    }

    /// <summary>Null when these tests can run here, else why not: they need root (mounts, setpriv) and a nobody user.</summary>
    public static string? Unavailable
    {
        get
        {
            if (Environment.UserName != "root") return "not root";
            if (!File.Exists("/dev/fuse")) return "no /dev/fuse";
            if (!File.Exists("/usr/bin/setpriv") && !File.Exists("/bin/setpriv")) return "no setpriv";
            if (!File.ReadLines("/etc/passwd").Any(l => l.StartsWith("nobody:", StringComparison.Ordinal))) return "no user nobody";
            return NobodyReachesTheBuild.Value ? null : "user nobody cannot read the built programs or run dotnet here";
        }
    }

    /// <summary>Whether nobody can run what the tests start as nobody (a checkout under a private home cannot).</summary>
    static readonly Lazy<bool> NobodyReachesTheBuild = new(() =>
    {
        try
        {
            var r = new World("probe");
            try
            {
                return r.Exec(User.Nobody, "sh", ["-c", "test -r \"$1\" && test -r \"$2\" && command -v \"$3\" >/dev/null", "sh", PeerDll, HurdDll, Dotnet],
                    timeoutMs: 30_000).ExitCode == 0;
            }
            finally { r.Dispose(); }
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    });

    /// <summary>The repository root (the directory holding Hurd.sln).</summary>
    public static string Repo { get; } = FindRepo();

    static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Hurd.sln"))) return d.FullName;
        throw new InvalidOperationException("Hurd.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A built program of this configuration: artifacts/bin/PROJECT/CONFIG/DLL.</summary>
    public static string Dll(string project, string dll)
    {
        string config = Path.GetFileName(AppContext.BaseDirectory.TrimEnd('/'));
        return Path.Combine(Repo, "artifacts", "bin", project, config, dll);
    }

    public static string HurdDll => Dll("Hurd.Cli", "hurd.dll");
    public static string PeerDll => Dll("Hurd.Security.TestPeer", "Hurd.Security.TestPeer.dll");
    static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    public string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Runs `hurd ARGS` as <paramref name="user"/>.</summary>
    public Run Hurd(User user, params string[] args) => Exec(user, Dotnet, [HurdDll, .. args]);

    /// <summary>Runs the test peer as <paramref name="user"/> with <paramref name="stdin"/> as its input.</summary>
    public Run Peer(User user, string stdin, params string[] args) => Exec(user, Dotnet, [PeerDll, .. args], stdin);

    /// <summary>Runs a program as <paramref name="user"/> with this world's runtime directory; killed after
    /// <paramref name="timeoutMs"/>.</summary>
    public Run Exec(User user, string program, string[] args, string? stdin = null, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(user.SetprivArgs.Length == 0 ? program : "setpriv")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        if (user.SetprivArgs.Length > 0)
        {
            foreach (var a in user.SetprivArgs) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(program);
            psi.Environment["HOME"] = "/tmp";
            psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HURD_RUNTIME_DIR"] = Runtime;
        psi.Environment["HURD_IPC_WORKERS"] = "4";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null) p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        catch (IOException) { }
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit(10_000);
            return new Run(-1, Wait(stdout), "TIMED OUT\n" + Wait(stderr));
        }
        p.WaitForExit();
        return new Run(p.ExitCode, Wait(stdout), Wait(stderr));
    }

    static string Wait(Task<string> t) => t.Wait(10_000) ? t.Result : "";

    /// <summary>Starts the auth daemon in this world's runtime directory (publishing <c>servers/auth</c> there, where
    /// the translators of this world look for it) and waits for it to be ready; Dispose kills it.</summary>
    public void StartAuth()
    {
        var psi = new ProcessStartInfo(Dotnet) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll("Auth", "auth.dll"));
        psi.Environment["HURD_RUNTIME_DIR"] = Runtime;
        var p = Process.Start(psi)!;
        var ready = p.StandardOutput.ReadLineAsync();
        Assert.True(ready.Wait(60_000) && ready.Result is { } l && l.StartsWith("ready", StringComparison.Ordinal), "auth did not start");
        daemons.Add(p);
    }

    readonly List<Process> daemons = new();

    /// <summary>Mounts a fresh kernel tmpfs at <paramref name="dir"/> (created).</summary>
    public void MountKernelTmpfs(string dir)
    {
        Directory.CreateDirectory(dir);
        var r = Exec(User.Root, "mount", ["-t", "tmpfs", "-o", "size=64m,mode=0755", "hurdsec", dir], timeoutMs: 30_000);
        Assert.True(r.ExitCode == 0, "mount -t tmpfs: " + r);
    }

    /// <summary>Mounts our tmpfs at <paramref name="dir"/> (created) with `hurd settrans -a DIR tmpfs [OPTIONS]`, as root.</summary>
    public void MountOurTmpfs(string dir, params string[] options)
    {
        Directory.CreateDirectory(dir);
        var r = Hurd(User.Root, ["settrans", "-a", dir, "tmpfs", .. options]);
        Assert.True(r.ExitCode == 0, "hurd settrans -a DIR tmpfs: " + r);
        Assert.Contains(dir, Mounts());
    }

    /// <summary>Mounts ext2fs at <paramref name="dir"/> (created) on a fresh 64 MiB image made by mkfs.ext2 in this world,
    /// with `hurd settrans -a DIR ext2fs IMAGE`, as root. False (nothing mounted) when mkfs.ext2 is missing.</summary>
    public bool MountOurExt2fs(string dir)
    {
        if (!File.Exists("/sbin/mkfs.ext2") && !File.Exists("/usr/sbin/mkfs.ext2")) return false;
        string image = PathOf("ext2.img");
        using (var f = File.Create(image)) f.SetLength(64 << 20);
        var mk = Exec(User.Root, "mkfs.ext2", ["-q", "-F", image], timeoutMs: 60_000);
        Assert.True(mk.ExitCode == 0, "mkfs.ext2: " + mk);
        Directory.CreateDirectory(dir);
        var r = Hurd(User.Root, "settrans", "-a", dir, "ext2fs", image);
        Assert.True(r.ExitCode == 0, "hurd settrans -a DIR ext2fs IMAGE: " + r);
        return true;
    }

    /// <summary>The control socket of the one translator running in this world.</summary>
    public string TranslatorControl => Directory.GetFiles(Path.Combine(Runtime, "servers", "translators")).Single();

    /// <summary>Runs <paramref name="ops"/> (test peer script lines) as root over IPC on the translator mounted at
    /// <paramref name="mount"/>, not through the mount, and asserts each succeeded. (The peer also runs each line with
    /// libc on an empty scratch directory, whose results are ignored.)</summary>
    public void RootOverIpc(string mount, string ops)
    {
        string scratch = PathOf("ipc-scratch");
        Directory.CreateDirectory(scratch);
        using var giver = ControlGiver.Publish(this, TranslatorControl);
        var r = Peer(User.Root, ops, "fs-ipc", scratch, giver.Path, mount);
        Assert.True(r.ExitCode == 0, "peer: " + r);
        foreach (var line in r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.True(line.Split('\t').Last().Trim() == "OK", "over IPC: " + r.Out);
    }

    /// <summary>Mount points under this world's directory, from /proc/self/mountinfo.</summary>
    public List<string> Mounts() => global::Hurd.Tests.Shared.Leftovers.MountsUnder(Dir);

    /// <summary>Processes whose environment carries this world's runtime directory (its daemons).</summary>
    public List<int> Processes() => global::Hurd.Tests.Shared.Leftovers.ProcessesOfRuntime(Runtime);

    public void Dispose()
    {
        foreach (var p in daemons)
        {
            try { p.Kill(); p.WaitForExit(10_000); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var m in Mounts().OrderByDescending(m => m.Length))
            if (Exec(User.Root, "umount", [m], timeoutMs: 30_000).ExitCode != 0) Exec(User.Root, "umount", ["-l", m], timeoutMs: 30_000);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Processes().Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(100);
        foreach (var pid in Processes())
            try { Process.GetProcessById(pid).Kill(); } catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        foreach (var m in Mounts().OrderByDescending(m => m.Length)) Exec(User.Root, "umount", ["-l", m], timeoutMs: 30_000);
        for (int i = 0; i < 20; i++)
        {
            try
            {
                if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
                if (Directory.Exists(Runtime)) Directory.Delete(Runtime, recursive: true);
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { Thread.Sleep(100); }
        }
    }
}
