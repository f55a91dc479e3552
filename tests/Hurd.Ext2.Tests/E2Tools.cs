using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Hurd.Ipc.Abi;

using Hurd.Tests.Shared;

namespace Hurd.Ext2.Tests;

/// <summary>e2fsprogs and shell helpers for the tests: every process has a deadline.</summary>
internal static class E2Tools
{
    public static bool IsRoot => E2fsprogs.IsRoot;

    public static (int Rc, string Out, string Err) Run(string file, string args, string? stdin = null, int timeoutMs = 180_000) =>
        E2fsprogs.Run(file, args, stdin, timeoutMs);

    public static void MkfsExt2(string path, long size, int blockSize, string extra = "") => E2fsprogs.MkfsExt2(path, size, blockSize, extra);

    public static string DebugfsR(string image, string request) => E2fsprogs.DebugfsR(image, request);

    /// <summary>The strict check (<see cref="E2fsprogs.StrictFsck"/>).</summary>
    public static void StrictFsck(string image) => E2fsprogs.StrictFsck(image);

    /// <summary>After a crash (a mount abandoned): e2fsck -fy may only find the dirty state to mend (exit 0 or 1),
    /// and the strict check passes after it.</summary>
    public static void RepairAfterCrash(string image)
    {
        var r = Run("e2fsck", $"-fy {image}");
        Assert.True(r.Rc is 0 or 1, r.Out);
        StrictFsck(image);
    }

    public static void Delete(string path) => E2fsprogs.Delete(path);

    /// <summary>Runs a debugfs script (-w when <paramref name="write"/>); returns stdout.</summary>
    public static string Debugfs(string image, string script, bool write = false)
    {
        var r = E2fsprogs.Run("debugfs", (write ? "-w " : "") + "-f - " + image, script);
        Assert.True(r.Rc == 0, $"debugfs failed: {r.Err}");
        return r.Out;
    }

    public static string TempPath(string suffix = ".img") => Path.Combine(Path.GetTempPath(), $"e2test-{Guid.NewGuid():N}{suffix}");

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
