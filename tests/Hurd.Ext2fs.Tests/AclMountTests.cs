using System.Diagnostics;

namespace Hurd.Ext2fs.Tests;

/// <summary>
/// POSIX ACLs and passive translator records on ext2 images through the mounted daemon, checked against the Linux
/// tools on the same image: what we write is ext2's on-disk ACL format (debugfs), passes the strict e2fsck and is
/// read by fuse2fs (Linux's ACL code over the kernel); what fuse2fs writes is read by us. The translator record lands
/// in the gnu.translator xattr, as the Hurd's ext2fs keeps it. Skipped unless mounts can be made and the acl/attr
/// tools and fuse2fs are installed.
/// </summary>
public sealed class AclMountTests
{
    const int T = 300_000;

    static bool HaveTools => E2Tools.CanMount && File.Exists("/usr/bin/setfacl") && File.Exists("/usr/bin/setfattr")
        && File.Exists("/usr/bin/fuse2fs");

    /// <summary>Runs <paramref name="script"/> with the image mounted by fuse2fs (in the foreground, so that once it has
    /// exited after the unmount everything is in the image); returns stdout.</summary>
    static async Task<string> WithFuse2fs(string image, string options, string script)
    {
        string dir = E2Tools.TempPath(".f2fs");
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("fuse2fs") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", image, dir, "-o", options }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!DaemonMount.IsMounted(dir))
            {
                Assert.False(p.HasExited || DateTime.UtcNow > deadline, "fuse2fs did not mount: " + (p.HasExited ? p.StandardError.ReadToEnd() : "timeout"));
                await Task.Delay(100);
            }
            var r = E2Tools.Run("sh", $"-c \"cd {dir} && {script.Replace("\"", "\\\"")}\"");
            Assert.True(r.Rc == 0, $"fuse2fs: {script}: {r.Err}");
            return r.Out;
        }
        finally
        {
            for (int i = 0; i < 50 && DaemonMount.IsMounted(dir) && E2Tools.Run("umount", dir).Rc != 0; i++) await Task.Delay(200);
            if (DaemonMount.IsMounted(dir)) E2Tools.Run("umount", "-l " + dir);
            if (!p.WaitForExit(60_000)) p.Kill(true);
            try { Directory.Delete(dir); } catch (IOException) { }
        }
    }

    const string Strip = " | sed '/^$/d'";

    const string AclSession = Hurd.Tests.Shared.AclSession.Script;

    [Fact(Timeout = T)]
    public async Task SetfaclSession_MatchesTheKernelsTmpfs_AndE2fsckAgrees()
    {
        if (!HaveTools) return;
        string image = E2Tools.TempPath(), kdir = E2Tools.TempPath(".ktmp");
        try
        {
            Directory.CreateDirectory(kdir);
            Assert.Equal(0, E2Tools.Run("mount", $"-t tmpfs -o size=16m none {kdir}").Rc);
            string expected;
            try { var k = await DaemonMount.RunIn(kdir, AclSession); expected = k.Stdout + k.Stderr; }
            finally { E2Tools.Run("umount", "-l " + kdir); }
            E2Tools.MkfsExt2(image, 32L << 20, 1024);
            using (var m = await DaemonMount.Start(image))
            {
                var r = await m.Run(AclSession);
                Assert.Equal(expected, r.Stdout + r.Stderr);
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
        }
        finally
        {
            E2Tools.Delete(image);
            try { Directory.Delete(kdir); } catch (IOException) { }
        }
    }

    [Fact(Timeout = T)]
    public async Task AclsAndTranslators_WeWrite_AreExt2s_AndLinuxReadsThem()
    {
        if (!HaveTools) return;
        string image = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(image, 32L << 20, 4096);
            using (var m = await DaemonMount.Start(image))
            {
                await m.Sh("""
                    set -e
                    umask 022
                    touch f && setfacl -m u:1000:rwx,g:50:r-- f
                    mkdir d && setfacl -d -m u:7:rw- d && touch d/x
                    touch h && setfattr -n trusted.hurd.translator -v hello h
                    """);
                Assert.Equal("user::rw-\nuser:1000:rwx\ngroup::r--\ngroup:50:r--\nmask::rwx\nother::r--\n", await m.Sh("getfacl -cn f" + Strip));
                Assert.Equal("hello\0", await m.Sh("getfattr --only-values -n trusted.hurd.translator h"));
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
            // On disk: ext2's format (version 1, short entries), name index 2; the record in gnu.translator.
            var ea = E2Tools.DebugfsR(image, "ea_list /f");
            Assert.Contains("system.posix_acl_access (36) = 01 00 00 00 01 00 06 00 02 00 07 00 e8 03 00 00 04 00 04 00 08 00 04 00 32 00 00 00 10 00 07 00 20 00 04 00", ea);
            Assert.Contains("system.posix_acl_default", E2Tools.DebugfsR(image, "ea_list /d"));
            Assert.Contains("system.posix_acl_access", E2Tools.DebugfsR(image, "ea_list /d/x"));
            Assert.Contains("gnu.translator", E2Tools.DebugfsR(image, "ea_list /h"));
            // Linux's ACL code reads them.
            var linux = await WithFuse2fs(image, "ro", "getfacl -cn f d d/x" + Strip);
            Assert.Contains("user:1000:rwx\ngroup::r--\ngroup:50:r--\nmask::rwx", linux);
            Assert.Contains("default:user:7:rw-", linux);
            Assert.Contains("user::rw-\nuser:7:rw-\ngroup::r-x\t#effective:r--\nmask::rw-\nother::r--", linux);
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task AclsLinuxWrites_AreReadByUs_AndChmodKeepsThemInStep()
    {
        if (!HaveTools) return;
        string image = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(image, 32L << 20, 1024);
            await WithFuse2fs(image, "rw", "touch a && chmod 644 a && setfacl -m u:2000:r-x,g:60:rw- a && mkdir dd && setfacl -d -m u:7:rwx dd");
            E2Tools.StrictFsck(image);
            using (var m = await DaemonMount.Start(image))
            {
                Assert.Equal("user::rw-\nuser:2000:r-x\ngroup::r--\ngroup:60:rw-\nmask::rwx\nother::r--\n", await m.Sh("getfacl -cn a" + Strip));
                // fuse2fs stores the ACL without updating the mode (the kernel's ext2 would read the same pair).
                Assert.Equal("644\n", await m.Sh("stat -c %a a"));
                Assert.Contains("default:user:7:rwx", await m.Sh("getfacl -cn dd" + Strip));
                await m.Sh("chmod 600 a && umask 077 && touch dd/n");
                Assert.Equal(0, await m.Unmount());
            }
            E2Tools.StrictFsck(image);
            var linux = await WithFuse2fs(image, "ro", "getfacl -cn a dd/n" + Strip);
            Assert.Contains("user::rw-\nuser:2000:r-x\t#effective:---\ngroup::r--\t#effective:---\ngroup:60:rw-\t#effective:---\nmask::---\nother::---", linux);
            Assert.Contains("user:7:rwx\t#effective:rw-", linux); // dd/n: 0666 under the default ACL, no umask
        }
        finally { E2Tools.Delete(image); }
    }
}
