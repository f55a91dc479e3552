using Hurd.Ext2;
using Hurd.Ipc.Abi;
using Hurd.Translators.Tests;

namespace Hurd.Ext2fs.Tests;

/// <summary>
/// The shared POSIX conformance suite on ext2fs nodes, in process (no mount), over an image made by Debian's
/// mkfs.ext2. The suite's root is a fresh directory <c>/t</c> (0755, root's), so the image's lost+found stays out of
/// its listings. Disposing unmounts cleanly and runs the strict e2fsck.
/// </summary>
public sealed class Ext2fsConformanceTests : FileSystemConformanceTests
{
    /// <summary>ext2's block map reaches about 4 TiB (4 KiB blocks): a 2^60 truncate is EFBIG.</summary>
    protected override bool SupportsHugeFiles => false;

    /// <summary>ext2 keeps a value in the inode or one xattr block.</summary>
    protected override bool SupportsLargeXattrs => false;

    protected override TestFileSystem CreateFileSystem()
    {
        string image = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(image, 64L << 20, 4096);
            var fs = E2Tools.Open(image);
            Assert.Equal(Errno.OK, fs.Core.Mkdir(InodeNumber.Root, "t"u8, (FileMode)0x1ED, 0, 0, out var t));
            Assert.Equal(Errno.OK, fs.GetNode(t, out var root));
            return new TestFileSystem(root!, fs, () =>
            {
                try
                {
                    Assert.Equal(Errno.OK, fs.Unmount());
                    E2Tools.StrictFsck(image);
                }
                finally { E2Tools.Delete(image); }
            });
        }
        catch
        {
            E2Tools.Delete(image);
            throw;
        }
    }
}
