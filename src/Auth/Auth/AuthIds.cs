using Hurd.Interfaces;
using Hurd.Ipc.Abi;

namespace Hurd.Auth;

/// <summary>
/// The four id vectors of an auth handle: effective uids, available uids, effective gids, available gids
/// (the Hurd's <c>struct authhandle</c>). Immutable. By convention the first available id is the "real" one
/// and the second the "saved" one; permission checks use only the effective ids.
/// </summary>
public sealed class AuthIds
{
    /// <summary>Effective uids.</summary>
    public uint[] EUids { get; }
    /// <summary>Available uids (real, saved, ...).</summary>
    public uint[] AUids { get; }
    /// <summary>Effective gids (the first is the primary group, then the supplementary groups).</summary>
    public uint[] EGids { get; }
    /// <summary>Available gids (real, saved, ...).</summary>
    public uint[] AGids { get; }

    /// <summary>Copies the four vectors.</summary>
    public AuthIds(ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids, ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids)
    {
        EUids = euids.ToArray(); AUids = auids.ToArray(); EGids = egids.ToArray(); AGids = agids.ToArray();
    }

    /// <summary>The root identity auth starts with: euids {0}, auids {0, 0}, egids {0}, agids {0, 0}.</summary>
    public static AuthIds Root { get; } = new([0], [0, 0], [0], [0, 0]);

    /// <summary>True when uid 0 is effective or available (the holder may make any handle).</summary>
    public bool HasRoot => EUids.Contains(0u) || AUids.Contains(0u);

    /// <summary>True when <paramref name="uid"/> is effective or available here.</summary>
    public bool HoldsUid(uint uid) => EUids.Contains(uid) || AUids.Contains(uid);

    /// <summary>True when <paramref name="gid"/> is effective or available here.</summary>
    public bool HoldsGid(uint gid) => EGids.Contains(gid) || AGids.Contains(gid);

    /// <summary>True when every vector is at most <see cref="HurdLimits.IdsMax"/> long.</summary>
    public static bool WithinLimits(ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids, ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids) =>
        euids.Length <= HurdLimits.IdsMax && auids.Length <= HurdLimits.IdsMax && egids.Length <= HurdLimits.IdsMax && agids.Length <= HurdLimits.IdsMax;

    /// <summary>
    /// The Hurd's <c>auth_makeauth</c> rule: allowed if some handle in <paramref name="held"/> has uid 0
    /// (effective or available), or if every requested uid and gid appears in one of them.
    /// </summary>
    public static bool MayMake(IReadOnlyList<AuthIds> held, ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids, ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids)
    {
        foreach (var h in held) if (h.HasRoot) return true;
        return AllUids(held, euids) && AllUids(held, auids) && AllGids(held, egids) && AllGids(held, agids);
    }

    private static bool AllUids(IReadOnlyList<AuthIds> held, ReadOnlySpan<uint> ids)
    {
        foreach (var id in ids)
        {
            bool found = false;
            foreach (var h in held) if (h.HoldsUid(id)) { found = true; break; }
            if (!found) return false;
        }
        return true;
    }

    private static bool AllGids(IReadOnlyList<AuthIds> held, ReadOnlySpan<uint> ids)
    {
        foreach (var id in ids)
        {
            bool found = false;
            foreach (var h in held) if (h.HoldsGid(id)) { found = true; break; }
            if (!found) return false;
        }
        return true;
    }

    /// <summary>
    /// The identity of the live process <paramref name="pid"/> from <c>/proc/&lt;pid&gt;/status</c>:
    /// euids [euid], auids [ruid, suid], egids [egid, supplementary groups not equal to egid...],
    /// agids [rgid, sgid]. Fails with ESRCH if the process is gone and EPERM if its effective uid or gid
    /// is not <paramref name="attestedUid"/>/<paramref name="attestedGid"/> (the kernel-attested
    /// credentials of the connection; a process that changed ids since must reconnect). The pid and the
    /// attested ids come from the kernel, never from the client's message.
    /// </summary>
    public static Errno FromProcess(int pid, uint attestedUid, uint attestedGid, out AuthIds? ids)
    {
        ids = null;
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/status"); }
        catch (IOException) { return Errno.ESRCH; }
        catch (UnauthorizedAccessException) { return Errno.EACCES; }
        uint[]? uid = null, gid = null; uint[] groups = [];
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal)) uid = ParseList(line.AsSpan(4));
            else if (line.StartsWith("Gid:", StringComparison.Ordinal)) gid = ParseList(line.AsSpan(4));
            else if (line.StartsWith("Groups:", StringComparison.Ordinal)) groups = ParseList(line.AsSpan(7)) ?? [];
        }
        if (uid is not { Length: >= 3 } || gid is not { Length: >= 3 }) return Errno.ESRCH;
        if (uid[1] != attestedUid || gid[1] != attestedGid) return Errno.EPERM;
        var egids = new List<uint> { gid[1] };
        foreach (var g in groups) if (!egids.Contains(g)) egids.Add(g);
        if (egids.Count > HurdLimits.IdsMax) return Errno.E2BIG;
        ids = new AuthIds([uid[1]], [uid[0], uid[2]], egids.ToArray(), [gid[0], gid[2]]);
        return Errno.OK;
    }

    private static uint[]? ParseList(ReadOnlySpan<char> s)
    {
        var r = new List<uint>();
        foreach (var range in s.Split(' '))
        {
            foreach (var r2 in s[range].Split('\t'))
            {
                var tok = s[range][r2].Trim();
                if (tok.IsEmpty) continue;
                if (!uint.TryParse(tok, out uint v)) return null;
                r.Add(v);
            }
        }
        return r.ToArray();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"euids=[{string.Join(',', EUids)}] auids=[{string.Join(',', AUids)}] egids=[{string.Join(',', EGids)}] agids=[{string.Join(',', AGids)}]";
}
