using System.Security.Cryptography;
using Hurd.Ext2;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2fs.Tests;

/// <summary>
/// The ext2fs daemon mounted through FUSE on images made by Debian's mkfs.ext2, driven by ordinary programs, then
/// unmounted and read back by debugfs, by our core, and checked by the strict e2fsck. Skipped unless FUSE mounts
/// can be made (root, /dev/fuse).
/// </summary>
public sealed class MountTests
{
    const int T = 300_000;

    [Theory(Timeout = T)]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task Coreutils_OnAMountedImage_AreReadBackByDebugfs_AndE2fsckAgrees(int blockSize)
    {
        if (!E2Tools.CanMount) return;
        string image = E2Tools.TempPath(), dump = E2Tools.TempPath(".dump");
        try
        {
            E2Tools.MkfsExt2(image, 64L << 20, blockSize);
            string bigHash;
            using (var m = await DaemonMount.Start(image))
            {
                await m.Sh("""
                    set -e
                    cp /etc/services s1
                    mkdir -p a/b/c
                    cp s1 a/b/c/s2
                    cmp s1 a/b/c/s2
                    printf hello > h
                    ln h h2
                    ln -s h sym
                    ln -s "$(printf 'x%.0s' $(seq 1 300))" longsym
                    truncate -s 100000 t
                    truncate -s 10 s1
                    touch -d '@981173106' h
                    chmod 600 h
                    mv a/b a/bb
                    mkdir -p r/x/y && cp /etc/services r/x/y/ && ln -s ../.. r/x/y/up && rm -r r
                    mkfifo fifo
                    dd if=/dev/urandom of=big bs=64k count=40 2>/dev/null
                    echo gone > open; exec 3< open; rm open; test "$(cat <&3)" = gone; exec 3<&-
                    if command -v setfattr >/dev/null; then setfattr -n user.k -v v h; test "$(getfattr --only-values -n user.k h)" = v; fi
                    ls -l >/dev/null; ls -lR a >/dev/null
                    test "$(stat -c %h h)" = 2
                    test "$(readlink sym)" = h
                    test "$(cat sym)" = hello
                    """);
                bigHash = (await m.Sh("md5sum big")).Split(' ')[0];
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
            Assert.Equal("hello", E2Tools.DebugfsR(image, "cat /h"));
            Assert.Equal(File.ReadAllText("/etc/services"), E2Tools.DebugfsR(image, "cat /a/bb/c/s2"));
            Assert.Equal(File.ReadAllText("/etc/services")[..10], E2Tools.DebugfsR(image, "cat /s1"));
            var ls = E2Tools.DebugfsR(image, "ls -l /");
            foreach (var name in new[] { "s1", "a", "h", "h2", "sym", "longsym", "t", "fifo", "big", "lost+found" }) Assert.Contains(" " + name, ls);
            Assert.DoesNotContain(" r\n", ls);
            Assert.DoesNotContain(" open", ls);
            Assert.Contains("Fast link dest: \"h\"", E2Tools.DebugfsR(image, "stat /sym"));
            E2Tools.DebugfsR(image, $"dump /big {dump}");
            Assert.Equal(bigHash, Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(dump))));

            using var fs = E2Tools.Open(image, new Ext2fsOptions { Image = image, ReadOnly = true });
            var core = fs.Core;
            Assert.Equal(Errno.OK, core.Resolve("/h", out var h));
            Assert.Equal(Errno.OK, core.GetAttr(h, out var st));
            Assert.Equal(981173106, st.Mtime.Sec);
            Assert.Equal(FileMode.Regular | (FileMode)0x180, st.Mode);
            Assert.Equal(2u, st.Nlink);
            Assert.Equal(Errno.OK, core.Resolve("/t", out var t));
            Assert.Equal(Errno.OK, core.GetAttr(t, out st));
            Assert.Equal(100000, st.Size);
            Assert.Equal(0, st.Blocks);
            Assert.Equal(Errno.OK, core.Resolve("/longsym", out var ln));
            Assert.Equal(Errno.OK, core.ReadLink(ln, out var target));
            Assert.Equal(new string('x', 300), System.Text.Encoding.ASCII.GetString(target));
            Assert.Equal(Errno.OK, core.Resolve("/fifo", out var ff));
            Assert.Equal(Errno.OK, core.GetAttr(ff, out st));
            Assert.Equal(FileMode.Fifo, st.Mode.Type());
        }
        finally
        {
            E2Tools.Delete(image);
            E2Tools.Delete(dump);
        }
    }

    [Fact(Timeout = T)]
    public async Task FsyncedData_IsInTheImage_WhileStillMounted()
    {
        if (!E2Tools.CanMount) return;
        string image = E2Tools.TempPath(), src = E2Tools.TempPath(".src"), dump = E2Tools.TempPath(".dump");
        try
        {
            E2Tools.MkfsExt2(image, 64L << 20, 4096);
            var data = new byte[3 << 20];
            new Random(7).NextBytes(data);
            File.WriteAllBytes(src, data);
            using (var m = await DaemonMount.Start(image, "--sync=3600"))
            {
                await m.Sh($"mkdir d && dd if={src} of=d/f bs=64k conv=fsync 2>/dev/null");
                // The daemon still runs and has not synced on its own (interval 1 h): what fsync wrote is in the file.
                E2Tools.DebugfsR(image, $"dump /d/f {dump}");
                Assert.Equal(data, File.ReadAllBytes(dump));
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
        }
        finally
        {
            E2Tools.Delete(image);
            E2Tools.Delete(src);
            E2Tools.Delete(dump);
        }
    }

    [Fact(Timeout = T)]
    public async Task Sigterm_UnmountsCleanly()
    {
        if (!E2Tools.CanMount) return;
        string image = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(image, 32L << 20, 1024);
            using (var m = await DaemonMount.Start(image))
            {
                await m.Sh("mkdir -p x/y && echo z > x/y/z");
                int pid = m.Pid;
                Assert.Equal(0, E2Tools.Run("kill", $"-TERM {pid}").Rc);
                Assert.Equal(0, await m.WaitForExit());
                Assert.False(DaemonMount.IsMounted(m.Dir));
            }
            E2Tools.StrictFsck(image);
            Assert.Equal("z\n", E2Tools.DebugfsR(image, "cat /x/y/z"));
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task UncleanImage_MountsReadOnly_UnlessForced()
    {
        if (!E2Tools.CanMount) return;
        string image = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(image, 32L << 20, 4096);
            Assert.Equal(0, E2Tools.Run("debugfs", $"-w -R \"ssv state 0\" {image}").Rc);
            using (var m = await DaemonMount.Start(image))
            {
                var r = await m.Run("touch f");
                Assert.NotEqual(0, r.ExitCode);
                Assert.Contains("Read-only", r.Stderr);
                Assert.Equal(0, await m.Unmount());
                Assert.Contains("read-only", m.Output);
            }
            using (var m = await DaemonMount.Start(image, "--force"))
            {
                await m.Sh("touch f");
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task Kill9_KeepsFsyncedData_AndTheNextMountFreesTheOrphan()
    {
        if (!E2Tools.CanMount) return;
        string image = E2Tools.TempPath(), dump = E2Tools.TempPath(".dump");
        try
        {
            E2Tools.MkfsExt2(image, 64L << 20, 4096);
            var data = new byte[1 << 20];
            new Random(3).NextBytes(data);
            using (var m = await DaemonMount.Start(image, "--sync=3600"))
            {
                string orphan = Path.Combine(m.Dir, "orphan");
                using (var keep = new FileStream(Path.Combine(m.Dir, "keep"), System.IO.FileMode.Create))
                {
                    keep.Write(data);
                    keep.Flush(flushToDisk: true);
                }
                var open = new FileStream(orphan, System.IO.FileMode.Create);
                try
                {
                    open.Write(data, 0, 100_000);
                    File.Delete(orphan);
                    open.Flush(flushToDisk: true);
                    Assert.Equal(0, E2Tools.Run("kill", $"-KILL {m.Pid}").Rc);
                    await m.WaitForExit();
                }
                finally
                {
                    try { open.Dispose(); } catch (IOException) { }
                }
                E2Tools.Run("umount", "-l " + m.Dir);
            }
            // Killed: not clean, the unlinked file's inode still allocated (on the orphan list).
            Assert.Contains("not clean", E2Tools.Run("dumpe2fs", $"-h {image}").Out);
            E2Tools.DebugfsR(image, $"dump /keep {dump}");
            Assert.Equal(data, File.ReadAllBytes(dump));
            using (var m = await DaemonMount.Start(image, "--force"))
            {
                Assert.Equal(data, File.ReadAllBytes(Path.Combine(m.Dir, "keep")));
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
        }
        finally
        {
            E2Tools.Delete(image);
            E2Tools.Delete(dump);
        }
    }
}
