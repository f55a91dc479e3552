using System.Diagnostics;

namespace Hurd.Fsx.Tests;

/// <summary>
/// Two empty directories on kernel tmpfs: a fresh <c>mount -t tmpfs</c> in a temp dir when we are root (unmounted
/// in Dispose), else two directories under /dev/shm. Dispose removes everything it created.
/// </summary>
internal sealed class TmpfsPair : IDisposable
{
    public string A { get; }
    public string B { get; }
    private readonly string _top;
    private readonly bool _mounted;

    public TmpfsPair()
    {
        var baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _top = Path.Combine(baseDir, "fsx-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_top);
        _mounted = Environment.UserName == "root" && Run("mount", "-t", "tmpfs", "-o", "size=2g,mode=0755", "fsxtest", _top);
        A = Path.Combine(_top, "a");
        B = Path.Combine(_top, "b");
        Directory.CreateDirectory(A);
        Directory.CreateDirectory(B);
    }

    private static bool Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            if (!p.WaitForExit(30_000)) { p.Kill(); return false; }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (_mounted && !Run("umount", _top)) Run("umount", "-l", _top);
        try { Directory.Delete(_top, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
