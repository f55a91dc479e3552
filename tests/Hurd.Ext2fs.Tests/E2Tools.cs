using System.Diagnostics;
using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;

using Hurd.Tests.Shared;

namespace Hurd.Ext2fs.Tests;

/// <summary>e2fsprogs and process helpers (as in Hurd.Ext2.Tests): every process has a deadline.</summary>
internal static class E2Tools
{
    public static bool IsRoot => E2fsprogs.IsRoot;

    public static (int Rc, string Out, string Err) Run(string file, string args, string? stdin = null, int timeoutMs = 180_000) =>
        E2fsprogs.Run(file, args, stdin, timeoutMs);

    public static void MkfsExt2(string path, long size, int blockSize = 4096, string extra = "") => E2fsprogs.MkfsExt2(path, size, blockSize, extra);

    public static string DebugfsR(string image, string request) => E2fsprogs.DebugfsR(image, request);

    /// <summary>The strict check (<see cref="E2fsprogs.StrictFsck"/>).</summary>
    public static void StrictFsck(string image) => E2fsprogs.StrictFsck(image);

    public static void Delete(string path) => E2fsprogs.Delete(path);

    /// <summary>True when FUSE mounts can be made (root and /dev/fuse).</summary>
    public static bool CanMount => OperatingSystem.IsLinux() && File.Exists("/dev/fuse") && IsRoot;

    public static string TempPath(string suffix = ".img") => Path.Combine(Path.GetTempPath(), $"ext2fs-test-{Guid.NewGuid():N}{suffix}");

    /// <summary>Opens <paramref name="image"/> in process (no mount), failing the test if it cannot.</summary>
    public static Ext2fsFileSystem Open(string image, Ext2fsOptions? options = null)
    {
        var e = Ext2fsFileSystem.Open(image, options ?? new Ext2fsOptions { Image = image }, out var fs, out var msg);
        Assert.True(e == Errno.OK, $"open {image}: {e} {msg}");
        return fs!;
    }
}
