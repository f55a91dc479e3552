using Hurd.Translators.Hosting;

namespace Hurd.Cli;

/// <summary>Where a NODE is, as the command line sees it.</summary>
public enum NodeKind
{
    /// <summary>A plain Linux path: no translator of ours sits on it or above it.</summary>
    Plain,
    /// <summary>The node a translator daemon is (or was) mounted on: its mount point. <see cref="Located.Record"/>
    /// may be a dead daemon's record, and there may be only a stale FUSE mount.</summary>
    MountPoint,
    /// <summary>Strictly inside the tree of a live translator daemon: reached over IPC from its root.</summary>
    Inside,
}

/// <summary>
/// The result of <see cref="Located.Find"/>: the absolute path of NODE, what it is, the mount record
/// that decides it (for <see cref="NodeKind.Inside"/>: the mount with the longest mount point that is a
/// prefix of NODE, among live records), and the path relative to that mount's root.
/// </summary>
public sealed record Located(string Path, NodeKind Kind, MountRecord? Record, string Relative, MountEntry? Mount)
{
    /// <summary>True if the record's daemon is running.</summary>
    public bool IsActive => Record is { } r && Native.IsAlive(r.Pid);

    /// <summary>Locates <paramref name="node"/> without touching it (a hung translator cannot hang this):
    /// only the mount records, /proc/self/mountinfo and, when the lexical path matches nothing, realpath of
    /// NODE's parent (outside any of our mounts, so safe).</summary>
    public static Located Find(string node)
    {
        if (string.IsNullOrEmpty(node)) throw new CommandFailed("empty NODE", 2);
        string full = MountRecord.Normalize(node);
        var records = MountRecord.All();
        var found = Match(full, records);
        if (found.Kind == NodeKind.Plain && full != "/")
        {
            // Symlinks in the parent (e.g. /tmp -> /private/tmp) may hide a match.
            string? parent = System.IO.Path.GetDirectoryName(full);
            string? real = parent is null ? null : Native.RealPath(parent);
            if (real is not null)
            {
                string resolved = MountRecord.Normalize(System.IO.Path.Combine(real, System.IO.Path.GetFileName(full)));
                if (resolved != full) found = Match(resolved, records);
            }
        }
        return found;
    }

    private static Located Match(string full, List<MountRecord> records)
    {
        var mount = MountInfo.At(full);
        MountRecord? exact = records.FirstOrDefault(r => r.MountPoint == full);
        if (exact is null && mount is not null && IsFuse(mount))
        {
            // A daemon started by mount.fuse3 returns once mounted and writes its record just after.
            for (int i = 0; i < 40 && exact is null; i++)
            {
                Thread.Sleep(50);
                exact = MountRecord.Load(full);
            }
        }
        if (exact is not null || (mount is not null && IsFuse(mount)))
            return new Located(full, NodeKind.MountPoint, exact, "", mount);
        MountRecord? best = null;
        foreach (var r in records)
        {
            if (!Native.IsAlive(r.Pid)) continue;
            string prefix = r.MountPoint == "/" ? "/" : r.MountPoint + "/";
            if (full.StartsWith(prefix, StringComparison.Ordinal) && (best is null || r.MountPoint.Length > best.MountPoint.Length))
                best = r;
        }
        if (best is not null)
            return new Located(full, NodeKind.Inside, best, full[(best.MountPoint == "/" ? 1 : best.MountPoint.Length + 1)..], null);
        return new Located(full, NodeKind.Plain, null, "", mount);
    }

    /// <summary>True for a FUSE mount (fuse, fuse.SUBTYPE, fuseblk).</summary>
    public static bool IsFuse(MountEntry m) => m.FsType == "fuse" || m.FsType == "fuseblk" || m.FsType.StartsWith("fuse.", StringComparison.Ordinal);
}
