using System.Diagnostics;
using Hurd.Fuse;

namespace Hurd.Fuse.Tests;

/// <summary>Helpers for tests that mount: unique mount points, child processes with deadlines, mount table checks.</summary>
public static class TestMount
{
    /// <summary>The filesystem subtype of every test mount (fuse.hurdfusetest).</summary>
    public const string Subtype = "hurdfusetest";
    /// <summary>Mount points are made under /tmp with this prefix.</summary>
    public const string Prefix = "/tmp/hurd-fuse-test-";

    public static bool CanMount => OperatingSystem.IsLinux() && File.Exists("/dev/fuse") && Hurd.Ipc.Interop.Self.Uid == 0;

    public static string NewMountPoint()
    {
        // Clear what a killed earlier run may have left (only mounts whose daemon is gone).
        FuseSession.ClearStaleMounts(Subtype, Prefix);
        string dir = Prefix + Guid.NewGuid().ToString("N")[..12];
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static bool IsMounted(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ').ElementAtOrDefault(4) == dir);

    /// <summary>Unmounts lazily (if still mounted) and removes the directory; never throws.</summary>
    public static void Cleanup(string dir)
    {
        try { if (IsMounted(dir)) FuseSession.UnmountPath(dir, lazy: true); } catch { }
        for (int i = 0; i < 50; i++)
        {
            try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: false); return; }
            catch { Thread.Sleep(100); }
        }
    }

    public record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs a program as a child process (never inside the daemon's process threads), with a deadline.</summary>
    public static Task<Result> Run(string cwd, string file, params string[] args) => RunEnv(cwd, null, file, args);

    /// <summary>Like <see cref="Run"/> with extra environment variables.</summary>
    public static async Task<Result> RunEnv(string cwd, IDictionary<string, string>? env, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { try { p.Kill(true); } catch { } throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish"); }
        return new Result(p.ExitCode, await so, await se);
    }

    /// <summary>The dotnet host running this process (to start the test daemon as a child).</summary>
    public static string DotnetHost()
    {
        string? p = Environment.ProcessPath;
        if (p != null && Path.GetFileNameWithoutExtension(p) == "dotnet") return p;
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (root != null && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "dotnet"))) return Path.GetFullPath(Path.Combine(dir, "dotnet"));
        return "dotnet";
    }

    /// <summary>Kills every process whose command line mentions <paramref name="marker"/> (daemons a test started indirectly).</summary>
    public static void KillProcessesMentioning(string marker)
    {
        foreach (string d in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(d, "cmdline")).Contains(marker, StringComparison.Ordinal))
                    using (var p = Process.GetProcessById(pid)) p.Kill();
            }
            catch (Exception) { }
        }
    }

    /// <summary>True if some process's command line mentions <paramref name="marker"/>.</summary>
    public static bool AnyProcessMentioning(string marker)
    {
        foreach (string d in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid) || pid == Environment.ProcessId) continue;
            try { if (File.ReadAllText(Path.Combine(d, "cmdline")).Contains(marker, StringComparison.Ordinal)) return true; }
            catch (Exception) { }
        }
        return false;
    }

    /// <summary>Runs <c>sh -c</c> and returns stdout; fails the test on a non-zero exit.</summary>
    public static async Task<string> Sh(string cwd, string script)
    {
        var r = await Run(cwd, "sh", "-c", script);
        Assert.True(r.ExitCode == 0, $"sh -c '{script}' exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout;
    }
}
