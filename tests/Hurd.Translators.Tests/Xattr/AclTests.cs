using Hurd.Ipc.Abi;
using Hurd.Tmpfs;

namespace Hurd.Translators.Tests.Xattr;

/// <summary>
/// POSIX ACLs: the VFS format (parse, validate, format), the POSIX.1e access check, the mode rules (equivalent ACLs,
/// chmod, creation from a default ACL), and the SDK's behaviour on tmpfs nodes through the Calls layer.
/// </summary>
public sealed class AclTests
{
    const int T = 30_000;

    static byte[] A(string text)
    {
        Assert.Equal(Errno.OK, Acl.Parse(text, out var acl));
        return acl;
    }

    static Stat Owned(uint uid, uint gid, uint perm) => new() { Uid = uid, Gid = gid, Mode = FileMode.Regular | (FileMode)perm };

    static (TmpfsFileSystem Fs, PosixClient Root) Tmpfs()
    {
        Assert.Equal(Errno.OK, TmpfsOptions.Parse("64M\0"u8, null, out var o));
        var fs = new TmpfsFileSystem(o);
        return (fs, new PosixClient(fs.Root, Identity.Root));
    }

    [Fact(Timeout = T)]
    public async Task Parse_Format_RoundTrip_InVfsLayout()
    {
        await Task.Yield();
        var acl = A("o::r--,u::rw-,g::r--,u:1000:rwx,m::rw-,g:50:r-x");
        Assert.Equal("u::rw-,u:1000:rwx,g::r--,g:50:r-x,m::rw-,o::r--", Acl.Format(acl));
        Assert.Equal(4 + 6 * 8, acl.Length);
        Assert.Equal(new byte[] { 2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 7, 0, 0xe8, 3, 0, 0 }, acl[..20]);
        Assert.Equal(new Acl.Entry(Acl.Group, 5, 50), Acl.At(acl, 3));
    }

    [Theory(Timeout = T)]
    [InlineData("u::rw-,g::r--")]                       // no other
    [InlineData("u::rw-,u:5:r--,g::r--,o::---")]        // named entry without a mask
    [InlineData("u::rw-,u::r--,g::r--,o::---")]         // two owners
    [InlineData("u::rw-,g::r--,m::r--,m::r--,o::---")]  // two masks
    public async Task Validate_RejectsBrokenAcls(string text)
    {
        await Task.Yield();
        Assert.Equal(Errno.EINVAL, Acl.Parse(text, out _));
    }

    [Fact(Timeout = T)]
    public async Task Validate_RejectsBadBytes()
    {
        await Task.Yield();
        var good = A("u::rw-,u:7:r--,u:9:r--,g::r--,m::r--,o::---");
        Assert.Equal(Errno.OK, Acl.Validate(good));
        Assert.Equal(Errno.OK, Acl.Validate([2, 0, 0, 0])); // header only: "no ACL"
        Assert.Equal(Errno.EINVAL, Acl.Validate(good[..^1]));
        var v1 = (byte[])good.Clone(); v1[0] = 1;
        Assert.Equal(Errno.EINVAL, Acl.Validate(v1));
        var unsorted = (byte[])good.Clone(); unsorted[12 + 4] = 9; unsorted[20 + 4] = 7; // u:9 before u:7
        Assert.Equal(Errno.EINVAL, Acl.Validate(unsorted));
        var perm = (byte[])good.Clone(); perm[6] = 8;
        Assert.Equal(Errno.EINVAL, Acl.Validate(perm));
    }

    [Fact(Timeout = T)]
    public async Task Check_FollowsPosix1e()
    {
        await Task.Yield();
        var st = Owned(100, 200, 0x1f4); // 0764 with ACL: owner rwx, mask rw- (group class), other r--
        var acl = A("u::rwx,u:300:rwx,u:301:---,g::r--,g:400:rw-,g:401:--x,m::rw-,o::r--");
        Assert.Equal(Errno.OK, Acl.Check(Identity.Of(100, 1), st, acl, Access.Exec));             // owner
        Assert.Equal(Errno.OK, Acl.Check(Identity.Of(300, 1), st, acl, Access.Read | Access.Write)); // named user
        Assert.Equal(Errno.EACCES, Acl.Check(Identity.Of(300, 1), st, acl, Access.Exec));         // ... masked
        Assert.Equal(Errno.EACCES, Acl.Check(Identity.Of(301, 1), st, acl, Access.Read));         // named user denied, though other may read
        Assert.Equal(Errno.OK, Acl.Check(Identity.Of(5, 200), st, acl, Access.Read));             // owning group
        Assert.Equal(Errno.EACCES, Acl.Check(Identity.Of(5, 200), st, acl, Access.Write));
        Assert.Equal(Errno.OK, Acl.Check(Identity.Of(5, 9, 400), st, acl, Access.Write));         // named group (supplementary)
        Assert.Equal(Errno.OK, Acl.Check(Identity.Of(5, 200, 400), st, acl, Access.Write));       // any matching group entry
        Assert.Equal(Errno.EACCES, Acl.Check(Identity.Of(5, 401), st, acl, Access.Exec));         // masked group entry
        Assert.Equal(Errno.EACCES, Acl.Check(Identity.Of(5, 401), st, acl, Access.Read));         // in a group: other does not apply
        Assert.Equal(Errno.OK, Acl.Check(Identity.Of(5, 9), st, acl, Access.Read));               // other
        Assert.Equal(Errno.EACCES, Acl.Check(Identity.Of(5, 9), st, acl, Access.Write));
    }

    [Fact(Timeout = T)]
    public async Task ModeRules_Equivalence_Chmod_Create()
    {
        await Task.Yield();
        Assert.True(Acl.EquivalentMode(A("u::rw-,g::r--,o::---"), out var p));
        Assert.Equal((FileMode)0x1a0, p);
        Assert.False(Acl.EquivalentMode(A("u::rw-,g:5:rwx,g::r--,m::r-x,o::---"), out p));
        Assert.Equal((FileMode)0x1a8, p); // 0650: the group bits are the mask

        var acl = A("u::rwx,u:7:rwx,g::r-x,m::rwx,o::r-x");
        Acl.Chmod(acl, (FileMode)0x1e0); // 0740
        Assert.Equal("u::rwx,u:7:rwx,g::r-x,m::r--,o::---", Acl.Format(acl));
        var plain = A("u::rwx,g::r-x,o::r-x");
        Acl.Chmod(plain, (FileMode)0x1a4);
        Assert.Equal("u::rw-,g::r--,o::r--", Acl.Format(plain));

        // A file made with 0666 under default ACL u::rwx,g::r-x,g:50:rwx,m::rwx,o::r-x (the umask does not apply).
        var access = A("u::rwx,g::r-x,g:50:rwx,m::rwx,o::r-x");
        var mode = (FileMode)0x1b6;
        Assert.True(Acl.Create(access, ref mode));
        Assert.Equal((FileMode)0x1b4, mode); // 0664
        Assert.Equal("u::rw-,g::r-x,g:50:rwx,m::rw-,o::r--", Acl.Format(access));
        var minimal = A("u::rwx,g::r-x,o::---");
        mode = (FileMode)0x1ff;
        Assert.False(Acl.Create(minimal, ref mode));
        Assert.Equal((FileMode)0x1e8, mode); // 0750
    }

    [Fact(Timeout = T)]
    public async Task Sdk_SettingAnAcl_SetsTheMode_AndAnEquivalentOneIsNotStored()
    {
        await Task.Yield();
        var (_, root) = Tmpfs();
        Assert.Equal(Errno.OK, root.WriteFile("/f", "x"));
        Assert.Equal(Errno.OK, root.Chmod("/f", 0x1a4));
        Assert.Equal(Errno.OK, root.Setxattr("/f", "system.posix_acl_access", A("u::rw-,u:1000:rwx,g::r--,m::rwx,o::---")));
        Assert.Equal((FileMode)0x1b8, root.StatOk("/f").Mode & FileMode.PermMask); // 0670: the mask is the group bits
        Assert.Equal(Errno.OK, root.Getxattr("/f", "system.posix_acl_access", out var v));
        Assert.Equal("u::rw-,u:1000:rwx,g::r--,m::rwx,o::---", Acl.Format(v));
        Assert.Equal(Errno.OK, root.Listxattr("/f", out var names));
        Assert.Contains("system.posix_acl_access", names);

        // chmod rewrites the stored ACL's owner, mask and other entries.
        Assert.Equal(Errno.OK, root.Chmod("/f", 0x1e5)); // 0745
        Assert.Equal(Errno.OK, root.Getxattr("/f", "system.posix_acl_access", out v));
        Assert.Equal("u::rwx,u:1000:rwx,g::r--,m::r--,o::r-x", Acl.Format(v));

        // An ACL the mode can say is not stored; the mode takes it.
        Assert.Equal(Errno.OK, root.Setxattr("/f", "system.posix_acl_access", A("u::r--,g::r--,o::r--")));
        Assert.Equal((FileMode)0x124, root.StatOk("/f").Mode & FileMode.PermMask);
        Assert.Equal(Errno.ENODATA, root.Getxattr("/f", "system.posix_acl_access", out _));
        Assert.Equal(Errno.OK, root.Removexattr("/f", "system.posix_acl_access")); // absent: fine, as Linux

        Assert.Equal(Errno.EINVAL, root.Setxattr("/f", "system.posix_acl_access", [2, 0, 0, 0, 1]));
        Assert.Equal(Errno.EACCES, root.Setxattr("/f", "system.posix_acl_default", A("u::rwx,g::r-x,o::r-x")));
        Assert.Equal(Errno.EOPNOTSUPP, root.Setxattr("/f", "system.other", [1]));
    }

    [Fact(Timeout = T)]
    public async Task Sdk_NamedEntries_GrantAndDeny_ForOtherUsers_AndOnlyTheOwnerSetsAcls()
    {
        await Task.Yield();
        var (fs, root) = Tmpfs();
        Assert.Equal(Errno.OK, root.Chmod("/", 0x1ff));
        Assert.Equal(Errno.OK, root.WriteFile("/f", "secret"));
        Assert.Equal(Errno.OK, root.Chown("/f", 1000, 1000));
        Assert.Equal(Errno.OK, root.Chmod("/f", 0x184)); // 0604: others may read
        var bob = new PosixClient(fs.Root, Identity.Of(1001, 1001));
        var eve = new PosixClient(fs.Root, Identity.Of(1002, 1002));
        var owner = new PosixClient(fs.Root, Identity.Of(1000, 1000));
        Assert.Equal(Errno.EACCES, bob.WriteFile("/f", "x", OpenFlags.None));
        Assert.Equal(Errno.EPERM, bob.Setxattr("/f", "system.posix_acl_access", A("u::rw-,u:1001:rw-,g::---,m::rw-,o::r--")));
        Assert.Equal(Errno.OK, owner.Setxattr("/f", "system.posix_acl_access", A("u::rw-,u:1001:rw-,u:1002:---,g::---,m::rw-,o::r--")));
        Assert.Equal(Errno.OK, bob.WriteFile("/f", "bob", OpenFlags.Truncate));
        Assert.Equal("bob", bob.ReadText("/f"));
        Assert.Equal(Errno.EACCES, eve.ReadFile("/f", out _)); // her entry denies what "other" allows
        Assert.Equal(Errno.OK, eve.Getxattr("/f", "system.posix_acl_access", out _)); // anyone may read an ACL
        var now = new TimeSpec(0, TimeSpec.UtimeNow);
        Assert.Equal(Errno.OK, bob.Utimens("/f", now, now)); // touch needs write: bob's entry gives it
        Assert.Equal(Errno.EACCES, eve.Utimens("/f", now, now));
        // The mask limits the named entries: chmod g-w takes bob's write away.
        Assert.Equal(Errno.OK, owner.Chmod("/f", 0x1a4));
        Assert.Equal(Errno.EACCES, bob.WriteFile("/f", "x", OpenFlags.None));
    }

    [Fact(Timeout = T)]
    public async Task Sdk_DefaultAcl_IsInherited_ByFilesAndDirectories()
    {
        await Task.Yield();
        var (_, root) = Tmpfs();
        Assert.Equal(Errno.OK, root.Mkdir("/d", 0x1ed));
        var dflt = A("u::rwx,g::r-x,g:50:rwx,m::rwx,o::---");
        Assert.Equal(Errno.OK, root.Setxattr("/d", "system.posix_acl_default", dflt));
        Assert.Equal(Errno.OK, root.WriteFile("/d/f", "x")); // PosixClient creates with 0644
        Assert.Equal((FileMode)0x1a0, root.StatOk("/d/f").Mode & FileMode.PermMask); // 0640: other cut by the ACL
        Assert.Equal(Errno.OK, root.Getxattr("/d/f", "system.posix_acl_access", out var v));
        Assert.Equal("u::rw-,g::r-x,g:50:rwx,m::r--,o::---", Acl.Format(v));
        Assert.Equal(Errno.ENODATA, root.Getxattr("/d/f", "system.posix_acl_default", out _));

        Assert.Equal(Errno.OK, root.Mkdir("/d/sub", 0x1ff));
        Assert.Equal((FileMode)0x1f8, root.StatOk("/d/sub").Mode & FileMode.PermMask); // 0770
        Assert.Equal(Errno.OK, root.Getxattr("/d/sub", "system.posix_acl_default", out v));
        Assert.Equal(Acl.Format(dflt), Acl.Format(v));
        Assert.Equal(Errno.OK, root.Mknod("/d/sub/n", FileMode.Regular | (FileMode)0x180));
        Assert.Equal(Errno.OK, root.Getxattr("/d/sub/n", "system.posix_acl_access", out v));
        Assert.Equal("u::rw-,g::r-x,g:50:rwx,m::---,o::---", Acl.Format(v));

        Assert.Equal(Errno.OK, root.Removexattr("/d", "system.posix_acl_default"));
        Assert.Equal(Errno.OK, root.WriteFile("/d/g", "x"));
        Assert.Equal(Errno.ENODATA, root.Getxattr("/d/g", "system.posix_acl_access", out _));
        Assert.Equal((FileMode)0x1a4, root.StatOk("/d/g").Mode & FileMode.PermMask);
    }
}
