namespace Hurd.Translators;

/// <summary>
/// Who a client is, as a Hurd auth handle names it: four fixed id vectors (effective uids,
/// available uids, effective gids, available gids). Permission checks use only the
/// effective ids; by convention the first available id is the "real" one and the second the
/// "saved" one. Immutable: a changed identity is a new object (and, on the wire, a new port).
/// </summary>
/// <remarks>
/// An identity with no effective uids is unauthenticated: it gets the "other" permission
/// bits everywhere and owns nothing. uid 0 among the effective uids is root.
/// </remarks>
public sealed class Identity
{
    /// <summary>The owner the SDK gives new nodes of an unauthenticated caller (the Hurd's "nobody").</summary>
    public const uint NobodyId = 65534;

    readonly uint[] uids, auids, gids, agids;

    /// <summary>An identity from its four id vectors (the arrays are copied).</summary>
    public Identity(ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids, ReadOnlySpan<uint> availableUids, ReadOnlySpan<uint> availableGids)
    {
        this.uids = uids.ToArray();
        this.gids = gids.ToArray();
        auids = availableUids.ToArray();
        agids = availableGids.ToArray();
        IsRoot = this.uids.AsSpan().Contains(0u);
    }

    /// <summary>The usual identity of a process: euid <paramref name="uid"/>, egid <paramref name="gid"/>
    /// followed by the supplementary <paramref name="groups"/>; real and saved ids equal the effective ones.</summary>
    public static Identity Of(uint uid, uint gid, params ReadOnlySpan<uint> groups)
    {
        Span<uint> g = stackalloc uint[groups.Length + 1];
        g[0] = gid;
        groups.CopyTo(g[1..]);
        return new Identity([uid], g, [uid, uid], [gid, gid]);
    }

    /// <summary>The superuser: uid 0, gid 0.</summary>
    public static Identity Root { get; } = Of(0, 0);

    /// <summary>The unauthenticated identity: no ids at all (the Hurd's empty auth handle).</summary>
    public static Identity Unauthenticated { get; } = new([], [], [], []);

    /// <summary>Effective uids.</summary>
    public ReadOnlySpan<uint> Uids => uids;
    /// <summary>Effective gids (the first is the primary group, then the supplementary groups).</summary>
    public ReadOnlySpan<uint> Gids => gids;
    /// <summary>Available uids (real, saved, ...).</summary>
    public ReadOnlySpan<uint> AvailableUids => auids;
    /// <summary>Available gids (real, saved, ...).</summary>
    public ReadOnlySpan<uint> AvailableGids => agids;

    /// <summary>True when uid 0 is among the effective uids.</summary>
    public bool IsRoot { get; }

    /// <summary>The uid that owns nodes this identity creates: the first effective uid, or <see cref="NobodyId"/>.</summary>
    public uint Uid => uids.Length > 0 ? uids[0] : NobodyId;

    /// <summary>The gid of nodes this identity creates (outside setgid directories): the first effective gid, or <see cref="NobodyId"/>.</summary>
    public uint Gid => gids.Length > 0 ? gids[0] : NobodyId;

    /// <summary>True when <paramref name="uid"/> is among the effective uids.</summary>
    public bool HasUid(uint uid) => uids.AsSpan().Contains(uid);

    /// <summary>True when <paramref name="gid"/> is among the effective gids.</summary>
    public bool HasGid(uint gid) => gids.AsSpan().Contains(gid);

    /// <summary>
    /// io_restrict_auth (iohelp_restrict_iouser): an identity allowed only what both this one and the given ids may do.
    /// Root may take any ids (exactly those given, in that order); anyone else keeps those of its effective ids that are
    /// among the given ones, in its own order (so its first uid, the owner of new files, stays first when kept). The
    /// result has no available ids besides its effective ones.
    /// </summary>
    public Identity Restrict(ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids)
    {
        if (IsRoot) return new Identity(uids, gids, uids, gids);
        var u = new List<uint>();
        foreach (var x in this.uids) if (uids.Contains(x) && !u.Contains(x)) u.Add(x);
        var g = new List<uint>();
        foreach (var x in this.gids) if (gids.Contains(x) && !g.Contains(x)) g.Add(x);
        return new Identity(u.ToArray(), g.ToArray(), u.ToArray(), g.ToArray());
    }

    /// <inheritdoc/>
    public override string ToString() => $"uids [{string.Join(',', uids)}] gids [{string.Join(',', gids)}]";
}
