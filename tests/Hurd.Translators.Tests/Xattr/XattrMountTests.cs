using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators.Serving;
using Hurd.Translators.Tests.Bridge;

namespace Hurd.Translators.Tests.Xattr;

/// <summary>
/// Through a real Linux mount of the tmpfs translator (the SDK's serving layer and the FUSE bridge in process):
/// setfacl/getfacl and the kernel's permission path honouring ACL entries, default ACLs with the umask, and the
/// passive translator record as the trusted.hurd.translator xattr. Skipped unless mounts can be made (root, /dev/fuse)
/// and the acl/attr tools are installed.
/// </summary>
[Collection("bridge-mounts")]
public sealed class XattrMountTests
{
    const int T = 120_000;

    internal static bool HaveTools => File.Exists("/usr/bin/setfacl") && File.Exists("/usr/bin/getfattr");

    internal static BridgeMount Mount(out ServedFilesystem served)
    {
        served = new ServedFilesystem(new TmpfsFileSystem().Root, "tmpfs");
        try { return BridgeMount.Start(served.Control.MakeSend()); }
        catch { served.Dispose(); throw; }
    }

    [Fact(Timeout = T)]
    public async Task Setfacl_Getfacl_AndTheKernelPath_HonourNamedEntries()
    {
        if (!BridgeMount.CanMount || !HaveTools) return;
        var m = Mount(out var served);
        using (served)
        using (m)
        {
            await m.Sh("echo secret > f && chmod 604 f && setfacl -m u:65534:---,u:65533:rw- f");
            Assert.Equal("user::rw-\nuser:65533:rw-\nuser:65534:---\ngroup::---\nmask::rw-\nother::r--\n",
                await m.Sh("getfacl -cn f | sed '/^$/d'"));
            Assert.Equal("-rw-rw-r--+\n", await m.Sh("ls -l f | cut -c1-11"));
            Assert.Equal("664\n", await m.Sh("stat -c %a f"));
            // nobody (65534) has a named entry that takes away what "other" would give.
            var r = await m.Run("cat f", asNobody: true);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Permission denied", r.Stderr);
            // chmod keeps the ACL in step: the mask follows the group bits.
            await m.Sh("chmod 640 f");
            Assert.Equal("user::rw-\nuser:65533:rw-\t#effective:r--\nuser:65534:---\ngroup::---\nmask::r--\nother::---\n",
                await m.Sh("getfacl -cn f | sed '/^$/d'"));
            // Removing the ACL leaves the mode.
            await m.Sh("setfacl -b f");
            Assert.Equal("", await m.Sh("getfattr -m - -d f"));
            Assert.Equal("600\n", await m.Sh("stat -c %a f"));
            // A named entry for nobody lets it in where the mode would not.
            await m.Sh("mkdir -m 700 d && setfacl -m u:65534:rwx d");
            await m.Sh("echo hi > d/n && chmod 600 d/n && setfacl -m u:65534:r-- d/n");
            Assert.Equal("hi\n", await m.Sh("cat d/n", asNobody: true));
            await m.Sh("touch d/byNobody", asNobody: true);
            Assert.Equal("65534\n", await m.Sh("stat -c %u d/byNobody"));
        }
    }

    const string AclSession = Hurd.Tests.Shared.AclSession.Script;

    [Fact(Timeout = T)]
    public async Task SetfaclSession_MatchesTheKernelsTmpfs()
    {
        if (!BridgeMount.CanMount || !HaveTools) return;
        string kdir = Directory.CreateTempSubdirectory("hurd-acl-kernel-").FullName;
        string expected;
        try
        {
            Assert.Equal(0, Exec("mount", "-t", "tmpfs", "-o", "size=16m", "none", kdir));
            try { expected = await ShIn(kdir, AclSession); }
            finally { Exec("umount", "-l", kdir); }
        }
        finally { try { Directory.Delete(kdir); } catch (IOException) { } }
        var m = Mount(out var served);
        using (served)
        using (m)
        {
            var r = await m.Run(AclSession);
            Assert.Equal(expected, r.Stdout + r.Stderr);
        }
    }

    static int Exec(string file, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        if (!p.WaitForExit(30_000)) { p.Kill(); return -1; }
        return p.ExitCode;
    }

    static async Task<string> ShIn(string dir, string script)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("sh")
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment["LC_ALL"] = "C";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return await so + await se;
    }

    [Fact(Timeout = T)]
    public async Task ANamedEntryRefusingSearch_IsNotBypassedThroughTheKernelsEntryCache()
    {
        if (!BridgeMount.CanMount || !HaveTools) return;
        var m = Mount(out var served);
        using (served)
        using (m)
        {
            // Mode 0755 (everyone may search), but nobody's own entry refuses it.
            // (Names the kernel cached before the ACL was set stay cached for the entry timeout, as after a chmod.)
            await m.Sh("mkdir -m 755 d && setfacl -m u:65534:--- d && echo in > d/f && chmod 644 d/f");
            Assert.Equal("755\n", await m.Sh("stat -c %a d"));
            Assert.Equal("in\n", await m.Sh("cat d/f")); // root's lookup: the kernel would cache d/f for everyone
            var r = await m.Run("cat d/f", asNobody: true);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Permission denied", r.Stderr);
            await m.Sh("setfacl -b d");
            Assert.Equal("in\n", await m.Sh("cat d/f", asNobody: true));
        }
    }

    [Fact(Timeout = T)]
    public async Task DefaultAcl_IsInherited_AndTheUmaskAppliesOnlyWithoutOne()
    {
        if (!BridgeMount.CanMount || !HaveTools) return;
        var m = Mount(out var served);
        using (served)
        using (m)
        {
            await m.Sh("umask 022 && mkdir d plain && setfacl -d -m g:50:rwx d && touch d/f plain/f && mkdir d/s plain/s");
            // As Linux: under a default ACL the umask does not apply, the ACL cuts the mode down.
            Assert.Equal("664 775 644 755\n", (await m.Sh("stat -c %a d/f d/s plain/f plain/s")).Replace('\n', ' ').TrimEnd() + "\n");
            Assert.Equal("user::rw-\ngroup::r-x\t#effective:r--\ngroup:50:rwx\t#effective:rw-\nmask::rw-\nother::r--\n",
                await m.Sh("getfacl -cn d/f | sed '/^$/d'"));
            Assert.Contains("default:group:50:rwx", await m.Sh("getfacl -cn d/s | sed '/^$/d'"));
            Assert.Equal("", await m.Sh("getfattr -m - -d plain/f"));
            // setfacl -k drops the default ACL: the umask is back.
            await m.Sh("setfacl -k d && umask 022 && touch d/g");
            Assert.Equal("644\n", await m.Sh("stat -c %a d/g"));
        }
    }
}

/// <summary>Tests that start the hello daemon as a passive translator run alone: ServingTests checks that no such
/// daemon is left when it ends.</summary>
[CollectionDefinition("xattr-translators", DisableParallelization = true)]
public sealed class XattrTranslatorsCollection;

/// <summary>The passive translator record as the trusted.hurd.translator xattr through a real mount.</summary>
[Collection("xattr-translators")]
public sealed class TranslatorXattrMountTests
{
    const int T = 120_000;

    [Fact(Timeout = T)]
    public async Task TranslatorRecord_IsAnXattr_ThroughTheMount()
    {
        if (!BridgeMount.CanMount || !XattrMountTests.HaveTools) return;
        var m = XattrMountTests.Mount(out var served);
        using (served)
        using (m)
        {
            await m.Sh("touch hello");
            var r = await m.Run("getfattr -n trusted.hurd.translator hello");
            Assert.Contains("No such attribute", r.Stderr);
            // settrans -p by setfattr (the final NUL is added); the kernel's cached entry must go for the next lookup to
            // start it.
            await m.Sh("setfattr -n trusted.hurd.translator -v 0s" + Convert.ToBase64String("hello\0--contents=from xattr\n"u8.ToArray()) + " hello");
            await m.Sh("echo 2 > /proc/sys/vm/drop_caches");
            Assert.Equal("from xattr\n", await m.Sh("cat hello"));
            // The record is read from the node underneath the running translator's root.
            Assert.Equal("hello\0--contents=from xattr\n\0", await m.Sh("getfattr --only-values -n trusted.hurd.translator hello"));
            // Not listed: cp -a must not copy translators.
            Assert.DoesNotContain("hurd.translator", await m.Sh("getfattr -m - -d hello; true"));
            // Only root may use trusted. names (the kernel's rule).
            Assert.NotEqual(0, (await m.Run("getfattr --only-values -n trusted.hurd.translator hello", asNobody: true)).ExitCode);
            await m.Sh("setfattr -x trusted.hurd.translator hello");
            r = await m.Run("getfattr -n trusted.hurd.translator hello");
            Assert.Contains("No such attribute", r.Stderr);
        }
    }
}
