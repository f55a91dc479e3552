using System.Diagnostics;
using System.Text.Json;

namespace Hurd.Cli.Tests;

/// <summary>The outcome of a process the tests ran.</summary>
public sealed record Run(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Err}";
}

/// <summary>
/// A private world for one test: a temporary directory for nodes and mount points, and a private
/// HURD_RUNTIME_DIR (records, control ports, logs) that every process the test starts inherits, so
/// tests never see each other's (or a running system's) translators. Dispose takes everything down:
/// `hurd halt` on the directory, then SIGKILL of every process carrying this runtime directory in its
/// environment, lazy unmount of every mount under the directory, and removal of both directories.
/// </summary>
public sealed class Sandbox : IDisposable
{
    public readonly string Dir;
    public readonly string Runtime;

    public Sandbox()
    {
        Dir = Path.Combine(Path.GetTempPath(), "hurd-cli-" + Guid.NewGuid().ToString("N")[..10]);
        Runtime = Path.Combine(Dir + "-run");
        Directory.CreateDirectory(Dir);
        Directory.CreateDirectory(Runtime);
    }

    /// <summary>The repository root (the directory holding Hurd.sln).</summary>
    public static string Repo { get; } = FindRepo();

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Hurd.sln"))) return d.FullName;
        throw new InvalidOperationException("Hurd.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The built command line.</summary>
    public static string HurdDll => Path.Combine(Repo, "artifacts", "bin", "Hurd.Cli", "release", "hurd.dll");

    public string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Runs `hurd ARGS`.</summary>
    public Run Hurd(params string[] args) => Exec("dotnet", [HurdDll, .. args]);

    /// <summary>Runs a program with this sandbox's runtime directory; kills it after <paramref name="timeoutMs"/>.</summary>
    public Run Exec(string program, string[] args, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HURD_RUNTIME_DIR"] = Runtime;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit(10_000);
            return new Run(-1, Wait(stdout), "TIMED OUT\n" + Wait(stderr));
        }
        p.WaitForExit();
        return new Run(p.ExitCode, Wait(stdout), Wait(stderr));
    }

    private static string Wait(Task<string> t) => t.Wait(10_000) ? t.Result : "";

    /// <summary>`cat PATH` in a child process (a hung translator cannot hang the test), at most 30 s.</summary>
    public Run Cat(string path) => Exec("timeout", ["-s", "KILL", "30", "cat", path], 60_000);

    /// <summary>The mount records (MountPoint, Pid) of this sandbox's daemons.</summary>
    public List<(string MountPoint, int Pid)> Records()
    {
        var list = new List<(string, int)>();
        string dir = Path.Combine(Runtime, "mounts");
        if (!Directory.Exists(dir)) return list;
        foreach (var f in Directory.GetFiles(dir, "*.json"))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(f));
                list.Add((doc.RootElement.GetProperty("MountPoint").GetString()!, doc.RootElement.GetProperty("Pid").GetInt32()));
            }
            catch (Exception ex) when (ex is IOException or JsonException) { }
        }
        return list;
    }

    /// <summary>The pid of the daemon mounted at <paramref name="mountPoint"/>.</summary>
    public int PidAt(string mountPoint) => Records().Single(r => r.MountPoint == mountPoint).Pid;

    /// <summary>Mount points under the sandbox directory, from /proc/self/mountinfo.</summary>
    public List<string> Mounts() => global::Hurd.Tests.Shared.Leftovers.MountsUnder(Dir);

    /// <summary>Processes whose environment carries this sandbox's runtime directory (its daemons).</summary>
    public List<int> Processes() => global::Hurd.Tests.Shared.Leftovers.ProcessesOfRuntime(Runtime);

    /// <summary>True once no daemon process, record or mount of this sandbox is left (waits a little for exits).</summary>
    public bool NothingLeft(out string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var p = Processes();
            var r = Records();
            var m = Mounts();
            what = $"processes [{string.Join(",", p)}], records [{string.Join(",", r)}], mounts [{string.Join(",", m)}]";
            if (p.Count == 0 && r.Count == 0 && m.Count == 0) return true;
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(100);
        }
    }

    /// <summary>Waits (up to 20 s) until <paramref name="list"/> returns nothing.</summary>
    public bool NothingLeftOf<T>(Func<List<T>> list)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (list().Count > 0)
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    public void Dispose()
    {
        foreach (var pid in Processes()) Signal(pid, "CONT");
        try { Exec("dotnet", [HurdDll, "halt", Dir], 60_000); } catch (Exception) { }
        foreach (var pid in Processes()) Signal(pid, "KILL");
        Thread.Sleep(100);
        foreach (var m in Mounts().OrderByDescending(m => m.Length))
            try { Exec("umount", ["-l", m], 30_000); } catch (Exception) { }
        try { Directory.Delete(Dir, recursive: true); } catch (Exception) { }
        try { Directory.Delete(Runtime, recursive: true); } catch (Exception) { }
    }

    /// <summary>kill -SIG PID.</summary>
    public static void Signal(int pid, string sig)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + sig, pid.ToString() }, UseShellExecute = false, RedirectStandardError = true })!;
            p.WaitForExit(10_000);
        }
        catch (Exception) { }
    }
}
