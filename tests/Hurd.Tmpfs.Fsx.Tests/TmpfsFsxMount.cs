using System.Diagnostics;
using System.Text;

namespace Hurd.Tmpfs.Fsx.Tests;

/// <summary>
/// Our tmpfs daemon (artifacts/bin/Tmpfs.Daemon/CONFIG/tmpfs.dll) started as a child process with <c>--mount=DIR</c>,
/// next to a kernel tmpfs mounted by the test: the two sides of the differential tester. Root only (mount, FUSE
/// allow_other); <see cref="Available"/> says why not otherwise. Dispose never throws: it unmounts both (lazily if
/// needed), kills the daemon if it does not exit, and removes the directories.
/// </summary>
internal sealed class TmpfsFsxMount : IDisposable
{
    readonly Process? daemon;
    readonly StringBuilder output = new();
    readonly string top;
    bool kernelMounted;

    /// <summary>Our tmpfs, through FUSE.</summary>
    public string Ours { get; }
    /// <summary>A fresh kernel tmpfs.</summary>
    public string Kernel { get; }

    /// <summary>Null when the mounts can be made here, else the reason they cannot (not root, no /dev/fuse).</summary>
    public static string? Unavailable =>
        Environment.UserName != "root" ? "not root" : !File.Exists("/dev/fuse") ? "no /dev/fuse" : null;

    /// <summary>The daemon's dll, next to this test's output folder (same configuration).</summary>
    public static string DaemonDll
    {
        get
        {
            var here = AppContext.BaseDirectory.TrimEnd('/');
            string config = Path.GetFileName(here);
            return Path.GetFullPath(Path.Combine(here, "..", "..", "Tmpfs.Daemon", config, "tmpfs.dll"));
        }
    }

    TmpfsFsxMount(string top)
    {
        this.top = top;
        Ours = Path.Combine(top, "ours");
        Kernel = Path.Combine(top, "kernel");
        Directory.CreateDirectory(Ours);
        Directory.CreateDirectory(Kernel);
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } pp && Path.GetFileNameWithoutExtension(pp) == "dotnet" ? pp : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(DaemonDll);
        psi.ArgumentList.Add("2G");
        psi.ArgumentList.Add("--mount=" + Ours);
        daemon = Process.Start(psi)!;
        daemon.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        daemon.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
    }

    /// <summary>Mounts both sides; throws (after cleaning up) if either cannot be mounted within 90 s.</summary>
    public static async Task<TmpfsFsxMount> Start()
    {
        string top = Path.Combine(Path.GetTempPath(), "hurd-tmpfs-fsx-" + Guid.NewGuid().ToString("N")[..12]);
        var m = new TmpfsFsxMount(top);
        try
        {
            var r = Run("mount", "-t", "tmpfs", "-o", "size=2g,mode=0755", "fsxkernel", m.Kernel);
            if (r != 0) throw new InvalidOperationException($"mount -t tmpfs {m.Kernel} failed ({r})");
            m.kernelMounted = true;
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!IsMounted(m.Ours))
            {
                if (m.daemon!.HasExited || DateTime.UtcNow > deadline)
                    throw new InvalidOperationException(
                        $"tmpfs {(m.daemon.HasExited ? $"exited {m.daemon.ExitCode}" : "did not mount in 90 s")}: {m.Output}");
                await Task.Delay(100);
            }
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    /// <summary>What the daemon printed.</summary>
    public string Output { get { lock (output) return output.ToString(); } }

    static bool IsMounted(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ').ElementAtOrDefault(4) == dir);

    static int Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var so = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(30_000)) { p.Kill(true); return -1; }
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }

    public void Dispose()
    {
        try { if (IsMounted(Ours) && Run("umount", Ours) != 0) Run("umount", "-l", Ours); } catch { }
        if (daemon is not null)
        {
            try { if (!daemon.WaitForExit(30_000)) daemon.Kill(true); } catch { }
            try { daemon.WaitForExit(10_000); } catch { }
            daemon.Dispose();
        }
        try { if (kernelMounted && Run("umount", Kernel) != 0) Run("umount", "-l", Kernel); } catch { }
        for (int i = 0; i < 50; i++)
        {
            try { if (Directory.Exists(top)) Directory.Delete(top, recursive: true); return; }
            catch { Thread.Sleep(100); }
        }
    }
}
