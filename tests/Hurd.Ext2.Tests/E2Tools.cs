using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>e2fsprogs and shell helpers for the tests: every process has a deadline.</summary>
internal static class E2Tools
{
    /// <summary>e2fsprogs live in /usr/sbin, which a non-root PATH may lack.</summary>
    static string ToolPath(string file)
    {
        if (file.Contains('/')) return file;
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
            if (File.Exists(Path.Combine(dir, file))) return Path.Combine(dir, file);
        return file;
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    static extern uint GetEuid();

    /// <summary>True when running as root (device nodes, chown and loop mounts need it).</summary>
    public static bool IsRoot => GetEuid() == 0;

    public static (int Rc, string Out, string Err) Run(string file, string args, string? stdin = null, int timeoutMs = 180_000)
    {
        var psi = new ProcessStartInfo(ToolPath(file), args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin != null, UseShellExecute = false,
        };
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
    public static void MkfsExt2(string path, long size, int blockSize, string extra = "")
    {
        using (var f = new FileStream(path, System.IO.FileMode.Create)) f.SetLength(size);
        var r = Run("mkfs.ext2", $"-q -F -b {blockSize} {extra} {path}");
        Assert.True(r.Rc == 0, $"mkfs.ext2 failed: {r.Out}{r.Err}");
    }

    /// <summary>Runs a debugfs script (-w when <paramref name="write"/>); returns stdout.</summary>
    public static string Debugfs(string image, string script, bool write = false)
    {
        var r = Run("debugfs", (write ? "-w " : "") + "-f - " + image, script);
        Assert.True(r.Rc == 0, $"debugfs failed: {r.Err}");
        return r.Out;
    }

    /// <summary>One debugfs request (-R).</summary>
    public static string DebugfsR(string image, string request)
    {
        var r = Run("debugfs", $"-R \"{request}\" {image}");
        Assert.True(r.Rc == 0, $"debugfs failed: {r.Err}");
        return r.Out;
    }

    /// <summary>
    /// The strict check: e2fsck -fn exits 0, prints no line ending in "? no", and the superblock state
    /// is clean (dumpe2fs -h).
    /// </summary>
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

    public static string TempPath(string suffix = ".img") => Path.Combine(Path.GetTempPath(), $"e2test-{Guid.NewGuid():N}{suffix}");

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, true);
            else File.Delete(path);
        }
        catch (IOException) { }
    }

    public static Ext2Fs MountOk(IBlockDevice dev, Ext2MountOptions? o = null)
    {
        var err = Ext2Fs.Mount(dev, o, out var fs, out var msg);
        Assert.True(err == Errno.OK, $"mount failed: {err} {msg}");
        return fs!;
    }

    public static byte[] ReadAll(Ext2Fs fs, InodeNumber ino)
    {
        Assert.Equal(Errno.OK, fs.GetAttr(ino, out var st));
        var buf = new byte[st.Size];
        int done = 0;
        while (done < buf.Length)
        {
            Assert.Equal(Errno.OK, fs.Read(ino, done, buf.AsSpan(done, Math.Min(1 << 20, buf.Length - done)), out int n));
            Assert.True(n > 0);
            done += n;
        }
        return buf;
    }

    public static InodeNumber Resolve(Ext2Fs fs, string path)
    {
        var err = fs.Resolve(path, out var ino);
        Assert.True(err == Errno.OK, $"resolve {path}: {err}");
        return ino;
    }

    public static void WriteAll(Ext2Fs fs, InodeNumber ino, long off, ReadOnlySpan<byte> data)
    {
        Assert.Equal(Errno.OK, fs.Write(ino, off, data, out int n));
        Assert.Equal(data.Length, n);
    }

    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    // lstat(2) for comparing against the host tree (x86-64 struct stat).
    [DllImport("libc", EntryPoint = "lstat", SetLastError = true)]
    static extern int lstat_native(string path, byte[] buf);

    public static Stat LStat(string path)
    {
        var b = new byte[144];
        if (lstat_native(path, b) != 0) throw new IOException($"lstat {path} failed");
        var st = new Stat
        {
            Ino = BitConverter.ToUInt64(b, 8),
            Nlink = (uint)BitConverter.ToUInt64(b, 16),
            Mode = (FileMode)BitConverter.ToUInt32(b, 24),
            Uid = BitConverter.ToUInt32(b, 28),
            Gid = BitConverter.ToUInt32(b, 32),
            Rdev = BitConverter.ToUInt64(b, 40),
            Size = BitConverter.ToInt64(b, 48),
            Atime = new TimeSpec(BitConverter.ToInt64(b, 72), BitConverter.ToInt64(b, 80)),
            Mtime = new TimeSpec(BitConverter.ToInt64(b, 88), BitConverter.ToInt64(b, 96)),
            Ctime = new TimeSpec(BitConverter.ToInt64(b, 104), BitConverter.ToInt64(b, 112)),
        };
        return st;
    }

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    public static extern int LChown(string path, uint uid, uint gid);

    [DllImport("libc", EntryPoint = "mknod", SetLastError = true)]
    public static extern int MkNod(string path, uint mode, ulong dev);

    [DllImport("libc", EntryPoint = "lsetxattr", SetLastError = true)]
    public static extern int LSetXattr(string path, string name, byte[] value, nuint size, int flags);

    /// <summary>Mode bits written as octal digits: Oct(755) is 0755.</summary>
    public static FileMode Oct(int digits)
    {
        uint v = 0, mul = 1;
        for (int d = digits; d > 0; d /= 10, mul *= 8) v += (uint)(d % 10) * mul;
        return (FileMode)v;
    }

    public static string Utf8(byte[] b) => Encoding.UTF8.GetString(b);
}
