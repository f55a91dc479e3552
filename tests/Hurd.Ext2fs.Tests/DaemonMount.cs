using System.Diagnostics;
using System.Text;

namespace Hurd.Ext2fs.Tests;

/// <summary>
/// The ext2fs daemon (artifacts/bin/Ext2fs.Daemon/CONFIG/ext2fs.dll) started as a child process with
/// <c>--mount=DIR IMAGE</c>, as <c>hurd settrans -a DIR ext2fs IMAGE</c> runs it. <see cref="Unmount"/> runs umount and
/// waits for the daemon to exit (it writes everything back and marks the image clean on its way out: e2fsck must
/// only run after that). Dispose never throws: it unmounts lazily if needed, kills a daemon that does not exit, and
/// removes the mount directory.
/// </summary>
internal sealed class DaemonMount : IDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();

    public string Dir { get; }
    public string Image { get; }

    DaemonMount(Process p, string dir, string image) { process = p; Dir = dir; Image = image; }

    /// <summary>The daemon's dll, next to this test's output folder (same configuration).</summary>
    public static string DaemonDll
    {
        get
        {
            var here = AppContext.BaseDirectory.TrimEnd('/');
            string config = Path.GetFileName(here);
            return Path.GetFullPath(Path.Combine(here, "..", "..", "Ext2fs.Daemon", config, "ext2fs.dll"));
        }
    }

    public static async Task<DaemonMount> Start(string image, params string[] options)
    {
        string dir = E2Tools.TempPath(".mnt");
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } pp && Path.GetFileNameWithoutExtension(pp) == "dotnet" ? pp : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(DaemonDll);
        psi.ArgumentList.Add("--mount=" + dir);
        foreach (var o in options) psi.ArgumentList.Add(o);
        psi.ArgumentList.Add(image);
        var p = Process.Start(psi)!;
        var m = new DaemonMount(p, dir, image);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (m.output) m.output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (m.output) m.output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!IsMounted(dir))
        {
            if (p.HasExited || DateTime.UtcNow > deadline)
            {
                string why = p.HasExited ? $"exited {p.ExitCode}" : "did not mount in 90 s";
                m.Dispose();
                throw new InvalidOperationException($"ext2fs {why}: {m.Output}");
            }
            await Task.Delay(100);
        }
        return m;
    }

    public string Output { get { lock (output) return output.ToString(); } }

    public static bool IsMounted(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ').ElementAtOrDefault(4) == dir);

    /// <summary>The daemon's process id.</summary>
    public int Pid => process.Id;

    /// <summary>Waits (90 s at most) for the daemon to exit on its own; returns its exit code.</summary>
    public async Task<int> WaitForExit()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    /// <summary>umount, then wait for the daemon to exit; returns its exit code.</summary>
    public async Task<int> Unmount()
    {
        // A file just closed can keep the mount busy for a moment (the kernel drops its last reference
        // asynchronously), so retry a busy unmount for a while before failing.
        var r = E2Tools.Run("umount", Dir, timeoutMs: 60_000);
        for (int i = 0; r.Rc != 0 && r.Err.Contains("busy") && i < 50; i++)
        {
            await Task.Delay(200);
            r = E2Tools.Run("umount", Dir, timeoutMs: 60_000);
        }
        Assert.True(r.Rc == 0, $"umount {Dir}: {r.Err}");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <c>sh -c <paramref name="script"/></c> in the mount with a deadline.</summary>
    public Task<Result> Run(string script, int timeoutSeconds = 120) => RunIn(Dir, script, timeoutSeconds);

    /// <summary>The same in any directory (a kernel filesystem to compare with, say).</summary>
    public static async Task<Result> RunIn(string dir, string script, int timeoutSeconds = 120)
    {
        var psi = new ProcessStartInfo("sh")
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            try { p.Kill(true); } catch { }
            throw new TimeoutException($"sh -c '{script}' did not finish");
        }
        return new Result(p.ExitCode, await so, await se);
    }

    /// <summary>Like <see cref="Run"/>, failing the test on a non-zero exit; returns stdout.</summary>
    public async Task<string> Sh(string script)
    {
        var r = await Run(script);
        Assert.True(r.ExitCode == 0, $"sh -c '{script}' exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout;
    }

    public void Dispose()
    {
        try { if (IsMounted(Dir)) E2Tools.Run("umount", "-l " + Dir, timeoutMs: 30_000); } catch { }
        try { if (!process.WaitForExit(30_000)) process.Kill(true); } catch { }
        try { process.WaitForExit(10_000); } catch { }
        // A daemon killed with -9 leaves its mount record and control socket behind: remove them.
        try
        {
            var rec = Hurd.Translators.Hosting.MountRecord.Load(Dir);
            if (rec is not null && !rec.IsAlive)
            {
                Hurd.Translators.Hosting.MountRecord.Remove(Dir, rec.Pid);
                File.Delete(Hurd.Ipc.Transport.Bootstrap.PathOf(rec.Control));
            }
        }
        catch { }
        process.Dispose();
        for (int i = 0; i < 50; i++)
        {
            try { if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: false); return; }
            catch { Thread.Sleep(100); }
        }
    }
}
