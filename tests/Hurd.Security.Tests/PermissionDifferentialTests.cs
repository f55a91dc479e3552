using System.Text;

namespace Hurd.Security.Tests;

/// <summary>
/// Permission semantics for a non-root user through FUSE against the kernel's: the same operations, run by a real
/// process switched to nobody (setpriv), on our tmpfs (mounted with `hurd settrans -a DIR tmpfs`, as root) or ext2fs
/// (on a fresh image) and on a kernel tmpfs, and every result compared (return value and errno of each call, then the owner, group, mode, size and
/// link count of every file). Scripts/setup.ops builds the same tree of root's and nobody's files on both sides (as
/// root); Scripts/user.ops is the user's script: open modes on 0600/0644/0666 files of either owner, O_CREAT/O_TRUNC,
/// search and write permission on directories, chmod and chown with the set-id rules, writes and truncation dropping
/// set-id bits, utimensat (NULL, UTIME_NOW, explicit, UTIME_OMIT) on own and others' files, unlink and rename in
/// sticky directories, group inheritance in setgid directories, directory renames that change "..", hard links under
/// fs.protected_hardlinks.
/// </summary>
public sealed class PermissionDifferentialTests
{
    const int T = 300_000;

    /// <summary>Our filesystem (tmpfs, or ext2fs on a fresh image made by mkfs.ext2) and the user.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "tmpfs", "nobody" }, { "tmpfs", "nobody+users" }, { "ext2fs", "nobody" },
    };

    [Theory(Timeout = T)]
    [MemberData(nameof(Cases))]
    public async Task NonRootUser_ThroughFuse_GetsTheKernelTmpfsResults(string fs, string userName)
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        var user = userName == "nobody" ? User.Nobody : User.NobodyInUsers;
        using var w = new World("perm");
        string kernel = w.PathOf("kernel"), ours = w.PathOf("ours");
        w.MountKernelTmpfs(kernel);
        if (fs == "tmpfs") w.MountOurTmpfs(ours);
        else if (!w.MountOurExt2fs(ours)) { Console.WriteLine("skipped ext2fs: no mkfs.ext2"); return; }

        string scripts = Path.Combine(AppContext.BaseDirectory, "Scripts");
        var setup = w.Peer(User.Root, File.ReadAllText(Path.Combine(scripts, "setup.ops")), "fs", kernel, ours);
        Assert.True(setup.ExitCode == 0, "setup: " + setup);
        Assert.Empty(Differences(File.ReadAllText(Path.Combine(scripts, "setup.ops")), setup.Out));

        string script = File.ReadAllText(Path.Combine(scripts, "user.ops"));
        var run = w.Peer(user, script, "fs", kernel, ours);
        Assert.True(run.ExitCode == 0, $"{user}: " + run);
        var diffs = Differences(script, run.Out);

        var tree = w.Peer(User.Root, "tree t\n", "fs", kernel, ours);
        Assert.True(tree.ExitCode == 0, "tree: " + tree);
        var cols = tree.Out.TrimEnd('\n').Split('\t');
        Assert.Equal(3, cols.Length);
        var k = cols[1].Split(';').ToHashSet();
        var o = cols[2].Split(';').ToHashSet();
        foreach (var line in k.Except(o).Order(StringComparer.Ordinal)) diffs.Add("after: kernel has " + line);
        foreach (var line in o.Except(k).Order(StringComparer.Ordinal)) diffs.Add("after: ours has   " + line);
        Assert.True(diffs.Count == 0, $"{fs}, {user}: {diffs.Count} differences from the kernel:\n" + string.Join('\n', diffs));
    }

    /// <summary>
    /// The IPC door (DESIGN decision 7: both doors give the same results): the same script, run by the user with libc on
    /// a kernel tmpfs and over IPC on our tmpfs (the Hurd's calls for each operation, on a root port from fsys_getroot
    /// with its own ids and groups; see the peer's IpcSide), with no kernel VFS in front of the translator. The operations the IPC
    /// side does not carry (symlink, mkfifo: the Hurd's short-circuited translators) go through the mount.
    /// </summary>
    [Theory(Timeout = T)]
    [InlineData("nobody")]
    [InlineData("nobody+users")]
    public async Task NonRootUser_OverIpc_GetsTheKernelTmpfsResults(string userName)
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        var user = userName == "nobody" ? User.Nobody : User.NobodyInUsers;
        using var w = new World("perm-ipc");
        string kernel = w.PathOf("kernel"), ours = w.PathOf("ours");
        w.MountKernelTmpfs(kernel);
        w.MountOurTmpfs(ours);
        string scripts = Path.Combine(AppContext.BaseDirectory, "Scripts");
        var setup = w.Peer(User.Root, File.ReadAllText(Path.Combine(scripts, "setup.ops")), "fs", kernel, ours);
        Assert.True(setup.ExitCode == 0, "setup: " + setup);
        Assert.Empty(Differences(File.ReadAllText(Path.Combine(scripts, "setup.ops")), setup.Out));

        using var giver = ControlGiver.Publish(w, w.TranslatorControl);
        string script = File.ReadAllText(Path.Combine(scripts, "user.ops"));
        var run = w.Peer(user, script, "fs-ipc", kernel, giver.Path, ours);
        Assert.True(run.ExitCode == 0, $"{user} over IPC: " + run);
        var diffs = Differences(script, run.Out);

        var tree = w.Peer(User.Root, "tree t\n", "fs", kernel, ours);
        Assert.True(tree.ExitCode == 0, "tree: " + tree);
        var cols = tree.Out.TrimEnd('\n').Split('\t');
        var k = cols[1].Split(';').ToHashSet();
        var o = cols[2].Split(';').ToHashSet();
        foreach (var line in k.Except(o).Order(StringComparer.Ordinal)) diffs.Add("after: kernel has " + line);
        foreach (var line in o.Except(k).Order(StringComparer.Ordinal)) diffs.Add("after: ours has   " + line);
        Assert.True(diffs.Count == 0, $"IPC, {user}: {diffs.Count} differences from the kernel:\n" + string.Join('\n', diffs));
    }

    /// <summary>The operations whose two results differ, as "op: kernel X, ours Y" (ours SKIP: not carried).</summary>
    static List<string> Differences(string script, string output)
    {
        var ops = script.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToList();
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var diffs = new List<string>();
        Assert.True(lines.Length == ops.Count, $"{ops.Count} operations, {lines.Length} results:\n{output}");
        for (int i = 0; i < lines.Length; i++)
        {
            var c = lines[i].Split('\t');
            if (c.Length != 3) { diffs.Add($"{ops[i]}: bad result line '{lines[i]}'"); continue; }
            if (c[1] != c[2] && c[2] != "SKIP") diffs.Add($"{ops[i]}: kernel {c[1]}, ours {c[2]}");
        }
        return diffs;
    }
}
