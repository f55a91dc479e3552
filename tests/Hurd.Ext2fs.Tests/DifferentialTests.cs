using Hurd.Fsx;

namespace Hurd.Ext2fs.Tests;

/// <summary>
/// The differential tester (tests/Hurd.Fsx) against the ext2fs daemon mounted through FUSE versus a kernel tmpfs
/// directory, then the strict e2fsck on the image. Comparisons that legitimately differ are switched off: st_blocks
/// (ext2 counts indirect blocks and cannot hold blocks past EOF), directory sizes (whole blocks), ZERO_RANGE (kernel
/// tmpfs lacks it), file sizes past ext2's block-map reach (EFBIG), xattr values cut to 1000 bytes (ext2 keeps a
/// file's xattrs in one block), lseek (SEEK_DATA/SEEK_HOLE on a directory: tmpfs EINVAL, ext2 ENXIO, as the kernel's
/// ext2) and timestamps (the tester's coarse-tick heuristic gave a false alarm on kernel tmpfs's side).
/// </summary>
public sealed class DifferentialTests
{
    const int T = 600_000;

    [Fact(Timeout = T)]
    public async Task RandomOperations_AgreeWithKernelTmpfs_AndE2fsckAgrees()
    {
        if (!E2Tools.CanMount || !Directory.Exists("/dev/shm")) return;
        string image = E2Tools.TempPath(), kernel = Path.Combine("/dev/shm", $"ext2fs-fsx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(kernel);
        try
        {
            E2Tools.MkfsExt2(image, 1L << 30, 4096);
            long maxFileSize;
            using (var fs = E2Tools.Open(image)) maxFileSize = fs.Core.MaxFileSize;
            using (var m = await DaemonMount.Start(image))
            {
                string ours = Path.Combine(m.Dir, "fsx");
                Directory.CreateDirectory(ours);
                var result = await Task.Run(() => Fsx.Fsx.Run(new FsxOptions
                {
                    DirA = kernel,
                    DirB = ours,
                    Seed = 11,
                    Seeds = 4,
                    Ops = 6000,
                    CompareBlocks = false,
                    CompareDirectorySize = false,
                    ZeroRange = false,
                    MaxFileSize = maxFileSize,
                    MaxXattrSize = 1000,
                    Times = FsxTimeCheck.Off,
                    Disabled = [FsxOpKind.Lseek],
                }));
                Assert.True(result.Passed, $"{result.Mismatch}");
                Assert.Equal(24_000, result.OpsRun);
                // Leave a tree behind for e2fsck: a few files, links, a symlink and an unlinked-open file.
                await m.Sh("""
                    set -e
                    mkdir -p keep/a/b && cp /etc/services keep/a/b/s && ln keep/a/b/s keep/h && ln -s a/b/s keep/l
                    dd if=/dev/zero of=keep/sparse bs=1 count=1 seek=50000000 2>/dev/null
                    echo x > keep/o; exec 3< keep/o; rm keep/o; cat <&3 >/dev/null
                    """);
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
        }
        finally
        {
            E2Tools.Delete(image);
            E2Tools.Delete(kernel);
        }
    }
}
