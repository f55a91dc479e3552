using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit;

namespace Hurd.Tests.Shared;

/// <summary>
/// e2fsprogs and process helpers shared by the ext2 test projects (linked into each with Compile Include):
/// every process has a deadline, and the strict e2fsck check is written once.
/// </summary>
internal static class E2fsprogs
{
    static string ToolPath(string file)
    {
        if (file.Contains('/')) return file;
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
            if (File.Exists(Path.Combine(dir, file))) return Path.Combine(dir, file);
        return file;
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    static extern uint GetEuid();

    /// <summary>True when running as root (FUSE mounts here need it).</summary>
    public static bool IsRoot => GetEuid() == 0;

    /// <summary>True when FUSE mounts can be made (root and /dev/fuse).</summary>
    public static bool CanMount => OperatingSystem.IsLinux() && File.Exists("/dev/fuse") && IsRoot;

    public static (int Rc, string Out, string Err) Run(string file, string args, string? stdin = null, int timeoutMs = 180_000)
    {
        var psi = new ProcessStartInfo(ToolPath(file), args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin != null, UseShellExecute = false,
        };
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        if (stdin != null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {args} did not finish in {timeoutMs} ms");
        }
        p.WaitForExit();
        return (p.ExitCode, outTask.Result, errTask.Result);
    }

    /// <summary>Runs Debian's mkfs.ext2 on a new image file.</summary>
    public static void MkfsExt2(string path, long size, int blockSize = 4096, string extra = "")
    {
        using (var f = new FileStream(path, System.IO.FileMode.Create)) f.SetLength(size);
        var r = Run("mkfs.ext2", $"-q -F -b {blockSize} {extra} {path}");
        Assert.True(r.Rc == 0, $"mkfs.ext2 failed: {r.Out}{r.Err}");
    }

    /// <summary>One debugfs request (-R), read-only; returns stdout.</summary>
    public static string DebugfsR(string image, string request)
    {
        var r = Run("debugfs", $"-R \"{request}\" {image}");
        Assert.True(r.Rc == 0, $"debugfs failed: {r.Err}");
        return r.Out;
    }

    /// <summary>The strict check: e2fsck -fn exits 0, prints no line ending in "? no", and the superblock state is
    /// clean (dumpe2fs -h).</summary>
    public static void StrictFsck(string image)
    {
        var r = Run("e2fsck", $"-fn {image}", timeoutMs: 240_000);
        string all = r.Out + r.Err;
        Assert.True(r.Rc == 0, $"e2fsck -fn exit {r.Rc}:\n{all}");
        foreach (var line in all.Split('\n'))
            Assert.False(line.TrimEnd().EndsWith("? no"), $"e2fsck found a problem:\n{all}");
        var d = Run("dumpe2fs", $"-h {image}");
        Assert.Contains(d.Out.Split('\n'), l => l.StartsWith("Filesystem state:") && l.TrimEnd().EndsWith("clean"));
    }

    
    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, true);
            else File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
