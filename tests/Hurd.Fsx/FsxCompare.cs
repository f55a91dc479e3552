using System.Globalization;
using Hurd.Fsx.Interop;

namespace Hurd.Fsx;

/// <summary>Compares the outcomes of one op on the two sides. Returns null when they agree, else the reason.</summary>
internal static class FsxCompare
{
    /// <summary>mtimes before this (2015) were set explicitly by utimensat (the generator uses 2001..2011).</summary>
    private const long ExplicitBefore = 1_420_000_000;

    public static string? Compare(in FsxOp op, FsxSide a, FsxSide b, FsxOptions o)
    {
        if (a.Ret != b.Ret) return "return values differ";
        if (a.Errno != b.Errno) return o.LenientErrno && a.Ret < 0 ? null : "errno differs";
        if (a.Ret < 0) return null;
        switch (op.Kind)
        {
            case FsxOpKind.Read:
            case FsxOpKind.Pread:
            case FsxOpKind.MmapRead:
            case FsxOpKind.Readlink:
            case FsxOpKind.Getxattr:
            {
                var da = a.Data;
                var db = b.Data;
                if (da.SequenceEqual(db)) return null;
                int i = da.CommonPrefixLength(db);
                return $"data differs at byte {i} (A 0x{(i < da.Length ? da[i] : 0):x2}, B 0x{(i < db.Length ? db[i] : 0):x2})";
            }
            case FsxOpKind.Readdir:
            case FsxOpKind.Listxattr:
                return a.Names.SequenceEqual(b.Names, StringComparer.Ordinal)
                    ? null
                    : $"names differ: A [{string.Join(' ', a.Names)}], B [{string.Join(' ', b.Names)}]";
            case FsxOpKind.Stat:
            case FsxOpKind.Lstat:
            case FsxOpKind.Fstat:
                return CompareStat(a, b, o);
            case FsxOpKind.Verify:
                return a.Hash == b.Hash ? null : LocateDifference(op.Slot, a, b);
            default:
                return null;
        }
    }

    private static string LocateDifference(int slot, FsxSide a, FsxSide b)
    {
        // Both sides agreed on the byte count; find the first differing byte by re-reading in 64 KiB steps.
        // Only used after a mismatch, so the extra reads do not matter.
        for (long off = 0; ; off += 1 << 16)
        {
            nint na = a.PreadSlot(slot, off, 1 << 16, out var da);
            var copy = da.ToArray();
            nint nb = b.PreadSlot(slot, off, 1 << 16, out var db);
            if (na != nb) return $"contents differ: pread at {off} returns {na} on A, {nb} on B";
            if (na <= 0) return "contents differ (content hash), but no differing byte found on re-read";
            int i = copy.AsSpan().CommonPrefixLength(db);
            if (i < copy.Length)
                return $"contents differ at byte {off + i} (A 0x{copy[i]:x2}, B 0x{db[i]:x2})";
        }
    }

    private static string? CompareStat(FsxSide a, FsxSide b, FsxOptions o)
    {
        ref readonly var sa = ref a.Stat;
        ref readonly var sb = ref b.Stat;
        if (sa.Mode != sb.Mode) return "st_mode differs";
        bool dir = (sa.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
        if (sa.Size != sb.Size && (!dir || o.CompareDirectorySize)) return "st_size differs";
        if (sa.Nlink != sb.Nlink) return "st_nlink differs";
        if (sa.Uid != sb.Uid) return "st_uid differs";
        if (sa.Gid != sb.Gid) return "st_gid differs";
        if (sa.RdevMajor != sb.RdevMajor || sa.RdevMinor != sb.RdevMinor) return "st_rdev differs";
        if (o.CompareBlocks && sa.Blocks != sb.Blocks) return "st_blocks differs";
        if (o.Times == FsxTimeCheck.Off) return null;

        bool ea = sa.Mtime.Sec < ExplicitBefore, eb = sb.Mtime.Sec < ExplicitBefore;
        if (ea || eb)
        {
            if (!(ea && eb && sa.Mtime.Sec == sb.Mtime.Sec && sa.Mtime.Nsec == sb.Mtime.Nsec))
                return "mtime differs (one side keeps an explicitly set mtime, the other does not, or values differ)";
        }
        if (!a.HasPrevious || !b.HasPrevious) return null;
        bool strict = o.Times == FsxTimeCheck.Strict;
        if (!ea && !eb)
        {
            var ma = Change(sa.Mtime, a.Previous.Mtime, a.Previous.ObservedAt, strict);
            var mb = Change(sb.Mtime, b.Previous.Mtime, b.Previous.ObservedAt, strict);
            if (Conflict(ma, mb)) return $"mtime {Describe(ma)} on A but {Describe(mb)} on B since the previous stat";
        }
        var ca = Change(sa.Ctime, a.Previous.Ctime, a.Previous.ObservedAt, strict);
        var cb = Change(sb.Ctime, b.Previous.Ctime, b.Previous.ObservedAt, strict);
        if (Conflict(ca, cb)) return $"ctime {Describe(ca)} on A but {Describe(cb)} on B since the previous stat";
        return null;
    }

    private enum TimeChange { Changed, Unchanged, Unknown }

    private static TimeChange Change(Libc.TimeStampX now, Libc.TimeStampX prev, Libc.TimeSpec observedAt, bool strict)
    {
        if (now.Sec != prev.Sec || now.Nsec != prev.Nsec) return TimeChange.Changed;
        if (strict) return TimeChange.Unchanged;
        // Unchanged is definite only if the clock had left prev's tick when prev was observed: any later change
        // would then carry a later timestamp.
        bool before = prev.Sec < observedAt.Sec || (prev.Sec == observedAt.Sec && prev.Nsec < observedAt.Nsec);
        return before ? TimeChange.Unchanged : TimeChange.Unknown;
    }

    private static bool Conflict(TimeChange x, TimeChange y) =>
        (x == TimeChange.Changed && y == TimeChange.Unchanged) || (x == TimeChange.Unchanged && y == TimeChange.Changed);

    private static string Describe(TimeChange c) => c == TimeChange.Changed ? "changed" : "unchanged";

    /// <summary>One side's outcome for a report.</summary>
    public static string Describe(in FsxOp op, FsxSide s)
    {
        var ci = CultureInfo.InvariantCulture;
        if (s.Ret == -1) return $"ret=-1 {ErrnoNames.Name(s.Errno)}";
        var text = "ret=" + s.Ret.ToString(ci);
        if (s.HasStat)
        {
            ref readonly var st = ref s.Stat;
            text += $" mode=0{Convert.ToString(st.Mode, 8)} size={st.Size} nlink={st.Nlink} uid={st.Uid} gid={st.Gid} blocks={st.Blocks}"
                + $" mtime={st.Mtime.Sec}.{st.Mtime.Nsec:D9} ctime={st.Ctime.Sec}.{st.Ctime.Nsec:D9}";
            if (s.HasPrevious)
                text += $" (previous mtime={s.Previous.Mtime.Sec}.{s.Previous.Mtime.Nsec:D9} ctime={s.Previous.Ctime.Sec}.{s.Previous.Ctime.Nsec:D9})";
        }
        if (op.Kind is FsxOpKind.Readdir or FsxOpKind.Listxattr) text += " [" + string.Join(' ', s.Names) + "]";
        if (op.Kind == FsxOpKind.Readlink) text += " '" + System.Text.Encoding.UTF8.GetString(s.Data) + "'";
        return text;
    }
}
