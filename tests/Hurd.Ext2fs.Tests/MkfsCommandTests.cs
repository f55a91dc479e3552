using Hurd.Ipc.Abi;

namespace Hurd.Ext2fs.Tests;

/// <summary><c>hurd mkfs.ext2 IMAGE SIZE</c>: images e2fsck accepts and ext2fs serves.</summary>
public sealed class MkfsCommandTests
{
    const int T = 120_000;

    [Theory(Timeout = T)]
    [InlineData("3M", new string[0])]
    [InlineData("64M", new[] { "-b", "4096", "-L", "disk" })]
    [InlineData("600M", new string[0])]
    public async Task MkfsExt2_MakesAnImageE2fsckAccepts_AndExt2fsMounts(string size, string[] options)
    {
        await Task.Yield();
        string image = E2Tools.TempPath();
        try
        {
            Assert.Equal(0, Hurd.Cli.Commands.MkfsExt2.Run([.. options, "-q", image, size]));
            E2Tools.StrictFsck(image);
            using (var fs = E2Tools.Open(image))
            {
                Assert.Equal(Errno.OK, fs.Core.Lookup(Ext2.InodeNumber.Root, "lost+found"u8, out _));
                Assert.Equal(Errno.OK, fs.Core.Mkdir(Ext2.InodeNumber.Root, "d"u8, (FileMode)0x1ED, 0, 0, out _));
            }
            E2Tools.StrictFsck(image);
            if (options.Contains("-L")) Assert.Contains("Filesystem volume name:   disk", E2Tools.Run("dumpe2fs", $"-h {image}").Out);
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task MkfsExt2_RejectsBadArguments()
    {
        await Task.Yield();
        Assert.Equal(2, Hurd.Cli.Commands.MkfsExt2.Run([]));
        Assert.Equal(2, Hurd.Cli.Commands.MkfsExt2.Run(["img"]));
        Assert.Equal(2, Hurd.Cli.Commands.MkfsExt2.Run(["img", "12Q"]));
        Assert.Equal(2, Hurd.Cli.Commands.MkfsExt2.Run(["-b", "8192", "img", "10M"]));
        string image = E2Tools.TempPath();
        try { Assert.Equal(1, Hurd.Cli.Commands.MkfsExt2.Run(["-q", image, "16k"])); }
        finally { E2Tools.Delete(image); }
    }
}
