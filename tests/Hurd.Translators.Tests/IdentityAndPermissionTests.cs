using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Translators.Tests;

public sealed class IdentityAndPermissionTests
{
    const int T = 10_000;

    static Stat Node(uint mode, uint uid, uint gid) => new() { Mode = (FileMode)mode, Uid = uid, Gid = gid };

    [Fact(Timeout = T)]
    public async Task Identity_HoldsTheFourIdVectors()
    {
        await Task.Yield();
        var id = Identity.Of(1000, 100, 200, 300);
        Assert.Equal([1000u], id.Uids.ToArray());
        Assert.Equal([100u, 200u, 300u], id.Gids.ToArray());
        Assert.Equal([1000u, 1000u], id.AvailableUids.ToArray());
        Assert.False(id.IsRoot);
        Assert.True(id.HasGid(300));
        Assert.True(Identity.Root.IsRoot);
        Assert.Equal(Identity.NobodyId, Identity.Unauthenticated.Uid);
        var r = id.Restrict([1000, 5], [200, 7]);
        Assert.Equal([1000u], r.Uids.ToArray());
        Assert.Equal([200u], r.Gids.ToArray());
        var fromRoot = Identity.Root.Restrict([42], [43]);
        Assert.False(fromRoot.IsRoot);
        Assert.Equal(42u, fromRoot.Uid);
    }

    [Theory(Timeout = T)]
    [InlineData(0x1A0u, 1000u, Access.Read | Access.Write, Errno.OK)]       // owner rw-
    [InlineData(0x1A0u, 1000u, Access.Exec, Errno.EACCES)]
    [InlineData(0x1A0u, 2000u, Access.Read, Errno.OK)]                       // group r--
    [InlineData(0x1A0u, 2000u, Access.Write, Errno.EACCES)]
    [InlineData(0x1A0u, 3000u, Access.Read, Errno.EACCES)]                   // other ---
    [InlineData(0x007u, 1000u, Access.Read, Errno.EACCES)]                   // owner bits win even if narrower
    [InlineData(0x000u, 0u, Access.Read | Access.Write, Errno.OK)]           // root
    [InlineData(0x000u, 0u, Access.Exec, Errno.EACCES)]                      // root needs an x bit to exec
    [InlineData(0x001u, 0u, Access.Exec, Errno.OK)]
    public async Task Check_UsesOwnerGroupOtherBits(uint mode, uint uid, Access want, Errno expected)
    {
        await Task.Yield();
        var who = uid switch { 0 => Identity.Root, 2000 => Identity.Of(2000, 2000, 100), _ => Identity.Of(uid, uid) };
        Assert.Equal(expected, Permissions.Check(who, Node(0x8000 | mode, 1000, 100), want));
    }

    [Fact(Timeout = T)]
    public async Task Sticky_LetsOnlyOwnersRemove()
    {
        await Task.Yield();
        var dir = Node(0x4000 | 0x3FF, 500, 500);
        var victim = Node(0x8000 | 0x1B6, 1000, 1000);
        Assert.Equal(Errno.EPERM, Permissions.CheckSticky(Identity.Of(2000, 2000), dir, victim));
        Assert.Equal(Errno.OK, Permissions.CheckSticky(Identity.Of(1000, 1000), dir, victim));
        Assert.Equal(Errno.OK, Permissions.CheckSticky(Identity.Of(500, 500), dir, victim));
        Assert.Equal(Errno.OK, Permissions.CheckSticky(Identity.Root, dir, victim));
        Assert.Equal(Errno.OK, Permissions.CheckSticky(Identity.Of(2000, 2000), Node(0x4000 | 0x1FF, 500, 500), victim));
    }

    [Fact(Timeout = T)]
    public async Task NewNodeIn_HonoursSetgidDirectories()
    {
        await Task.Yield();
        var who = Identity.Of(1000, 1000);
        var sgidDir = Node(0x4000 | 0x5FF, 0, 500);
        var f = Permissions.NewNodeIn(who, sgidDir, FileMode.Regular | (FileMode)0x5A4);
        Assert.Equal(500u, f.Gid);
        Assert.Equal(FileMode.Regular | (FileMode)0x1A4, f.Mode); // not in group 500: S_ISGID dropped
        var d = Permissions.NewNodeIn(who, sgidDir, FileMode.Directory | (FileMode)0x1ED);
        Assert.Equal(FileMode.Directory | FileMode.SetGid | (FileMode)0x1ED, d.Mode);
        var plain = Permissions.NewNodeIn(who, Node(0x4000 | 0x1FF, 0, 500), FileMode.Regular | (FileMode)0x1A4);
        Assert.Equal(1000u, plain.Gid);
        Assert.Equal(1000u, plain.Uid);
    }

    [Fact(Timeout = T)]
    public async Task KillSuid_DropsSuidAndExecutableSgid()
    {
        await Task.Yield();
        Assert.True(Permissions.KillSuid((FileMode)0xDED, out var m)); // 06755
        Assert.Equal((FileMode)0x1ED, m);
        Assert.True(Permissions.KillSuid((FileMode)0xDA4, out m));     // 06644: sgid without g+x stays
        Assert.Equal((FileMode)0x5A4, m);
        Assert.False(Permissions.KillSuid((FileMode)0x1ED, out _));
    }
}
