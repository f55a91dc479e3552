using Hurd.Ipc.Abi;
using Hurd.Translators;
using FileMode = Hurd.Ipc.Abi.FileMode;

namespace Hurd.Security.Tests;

/// <summary>
/// The rules the differential tests found missing or different, pinned one by one on <see cref="Permissions"/> (no
/// mount, no root needed): the set-id drops of chown, write and truncate, the chmod that only drops set-id bits,
/// and fs.protected_hardlinks.
/// </summary>
public sealed class PermissionRuleTests
{
    const int T = 10_000;
    static readonly Identity Nobody = Identity.Of(65534, 65534);
    static readonly Identity NobodyInUsers = Identity.Of(65534, 65534, 100);

    static Stat File(uint mode, uint uid, uint gid) => new() { Mode = FileMode.Regular | (FileMode)mode, Uid = uid, Gid = gid };

    [Fact(Timeout = T)]
    public async Task Chown_WithBothIdsUnchanged_DropsSetIdBits_AndIsAModeChange()
    {
        await Task.Yield();
        // the owner (and root): S_ISUID goes, S_ISGID with group-execute goes
        Assert.Equal(Errno.OK, Permissions.Chown(Nobody, File(0xDED, 65534, 65534), uint.MaxValue, uint.MaxValue, out var c));
        Assert.Equal(AttrMask.Mode, c.Valid);
        Assert.Equal((FileMode)0x1ED, c.Mode);
        Assert.Equal(Errno.OK, Permissions.Chown(Identity.Root, File(0x9ED, 0, 0), uint.MaxValue, uint.MaxValue, out c));
        Assert.Equal((FileMode)0x1ED, c.Mode);
        // S_ISGID without group-execute stays for root and for a member, goes for the owner outside the group
        Assert.Equal(Errno.OK, Permissions.Chown(Identity.Root, File(0x5E5, 0, 100), uint.MaxValue, uint.MaxValue, out c));
        Assert.Equal(AttrMask.None, c.Valid);
        Assert.Equal(Errno.OK, Permissions.Chown(NobodyInUsers, File(0x5E5, 65534, 100), uint.MaxValue, uint.MaxValue, out c));
        Assert.Equal(AttrMask.None, c.Valid);
        Assert.Equal(Errno.OK, Permissions.Chown(Nobody, File(0x5E5, 65534, 100), uint.MaxValue, uint.MaxValue, out c));
        Assert.Equal((FileMode)0x1E5, c.Mode);
        // someone else: a drop is a chmod they may not do (Linux: EPERM); nothing to drop is fine (ctime only)
        Assert.Equal(Errno.EPERM, Permissions.Chown(Nobody, File(0x9ED, 0, 0), uint.MaxValue, uint.MaxValue, out _));
        Assert.Equal(Errno.OK, Permissions.Chown(Nobody, File(0x1A4, 0, 0), uint.MaxValue, uint.MaxValue, out c));
        Assert.Equal(AttrMask.None, c.Valid);
        // directories keep their bits
        var dir = new Stat { Mode = FileMode.Directory | (FileMode)0xDED, Uid = 65534, Gid = 65534 };
        Assert.Equal(Errno.OK, Permissions.Chown(Nobody, dir, uint.MaxValue, 65534, out c));
        Assert.Equal(AttrMask.Gid, c.Valid);
    }

    [Fact(Timeout = T)]
    public async Task Write_DropsSetUid_AndSetGidWhenGroupExecutableOrNotAMember_RootNothing()
    {
        await Task.Yield();
        Assert.True(Permissions.KillPriv(Nobody, File(0xDFF, 0, 0), out var m));
        Assert.Equal((FileMode)0x1FF, m);
        Assert.True(Permissions.KillPriv(Nobody, File(0x5F7, 0, 0), out m)); // S_ISGID, no g+x, not in group 0
        Assert.Equal((FileMode)0x1F7, m);
        Assert.False(Permissions.KillPriv(NobodyInUsers, File(0x5F7, 0, 100), out _)); // a member keeps it
        Assert.False(Permissions.KillPriv(Identity.Root, File(0xDFF, 0, 0), out _));
        Assert.False(Permissions.KillPriv(Nobody, File(0x1B6, 0, 0), out _));
    }

    [Fact(Timeout = T)]
    public async Task Chmod_ByANonOwner_OnlyDropsSetIdBits_AndOnlyWithWritePermission()
    {
        await Task.Yield();
        // the kernel's pre-write drop through FUSE: allowed to a writer
        Assert.Equal(Errno.OK, Permissions.Chmod(Nobody, File(0xDFF, 0, 0), (FileMode)0x1FF, out var r));
        Assert.Equal((FileMode)0x1FF, r);
        Assert.Equal(Errno.OK, Permissions.Chmod(Nobody, File(0xDFF, 0, 0), (FileMode)0x5FF, out _));
        // not a writer, or anything else changes, or nothing changes: EPERM as ever
        Assert.Equal(Errno.EPERM, Permissions.Chmod(Nobody, File(0x9ED, 0, 0), (FileMode)0x1ED, out _));
        Assert.Equal(Errno.EPERM, Permissions.Chmod(Nobody, File(0xDFF, 0, 0), (FileMode)0x1FD, out _));
        Assert.Equal(Errno.EPERM, Permissions.Chmod(Nobody, File(0x1FF, 0, 0), (FileMode)0x1FF, out _));
        Assert.Equal(Errno.EPERM, Permissions.Chmod(Nobody, File(0x1FF, 0, 0), (FileMode)0x9FF, out _));
    }

    [Fact(Timeout = T)]
    public async Task ProtectedHardlinks_LetANonOwnerLinkOnlyReadWritablePlainFiles()
    {
        await Task.Yield();
        bool saved = Permissions.ProtectedHardlinks;
        try
        {
            Permissions.ProtectedHardlinks = true;
            Assert.Equal(Errno.OK, Permissions.CheckLinkSource(Nobody, File(0x1B6, 0, 0)));          // 0666
            Assert.Equal(Errno.EPERM, Permissions.CheckLinkSource(Nobody, File(0x1A4, 0, 0)));       // 0644: not writable
            Assert.Equal(Errno.EPERM, Permissions.CheckLinkSource(Nobody, File(0x9B6, 0, 0)));       // setuid
            Assert.Equal(Errno.EPERM, Permissions.CheckLinkSource(Nobody, File(0x5BE, 0, 0)));       // setgid, g+x
            Assert.Equal(Errno.OK, Permissions.CheckLinkSource(Nobody, File(0x100, 65534, 65534)));  // own file
            Assert.Equal(Errno.OK, Permissions.CheckLinkSource(Identity.Root, File(0x000, 5, 5)));
            Permissions.ProtectedHardlinks = false;
            Assert.Equal(Errno.OK, Permissions.CheckLinkSource(Nobody, File(0x9B6, 0, 0)));
        }
        finally { Permissions.ProtectedHardlinks = saved; }
    }
}
