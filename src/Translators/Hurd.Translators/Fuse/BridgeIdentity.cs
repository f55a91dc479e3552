using System.Collections.Concurrent;
using System.Globalization;

namespace Hurd.Translators.Fuse;

/// <summary>
/// The ids a FUSE request is made with, as the bridge presents them to a translator: the caller's fsuid, fsgid and
/// supplementary groups (uids = [uid], gids = [gid, groups...]). Immutable and compared by value, so it can key the
/// bridge's per-identity port cache. Every uid-0 caller maps to <see cref="Root"/>.
/// </summary>
public sealed class BridgeIdentity : IEquatable<BridgeIdentity>
{
    private readonly uint[] _uids;
    private readonly uint[] _gids;
    private readonly int _hash;

    /// <summary>The identity of uid 0 (uids [0], gids [0]): what the bridge's per-node ports carry.</summary>
    public static BridgeIdentity Root { get; } = new(0, 0, []);

    /// <summary>An identity for <paramref name="uid"/>, <paramref name="gid"/> and the supplementary
    /// <paramref name="groups"/> (duplicates and the primary group are dropped; the order is normalised).</summary>
    public BridgeIdentity(uint uid, uint gid, ReadOnlySpan<uint> groups)
    {
        var set = new SortedSet<uint>();
        foreach (var g in groups) if (g != gid) set.Add(g);
        _uids = [uid];
        _gids = new uint[set.Count + 1];
        _gids[0] = gid;
        set.CopyTo(_gids, 1);
        var h = new HashCode();
        h.Add(uid);
        foreach (var g in _gids) h.Add(g);
        _hash = h.ToHashCode();
    }

    /// <summary>The caller's uid (fsuid).</summary>
    public uint Uid => _uids[0];
    /// <summary>The caller's primary gid (fsgid).</summary>
    public uint Gid => _gids[0];
    /// <summary>True for uid 0: the bridge uses its per-node root ports directly.</summary>
    public bool IsRoot => _uids[0] == 0;
    /// <summary>The uid vector sent in io_restrict_auth / fsys_getroot.</summary>
    public ReadOnlySpan<uint> Uids => _uids;
    /// <summary>The gid vector sent in io_restrict_auth / fsys_getroot: the primary group, then the supplementary ones.</summary>
    public ReadOnlySpan<uint> Gids => _gids;

    /// <inheritdoc/>
    public bool Equals(BridgeIdentity? other) =>
        other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && _uids[0] == other._uids[0] && _gids.AsSpan().SequenceEqual(other._gids)));
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BridgeIdentity);
    /// <inheritdoc/>
    public override int GetHashCode() => _hash;
    /// <inheritdoc/>
    public override string ToString() => $"uid {Uid} gids [{string.Join(',', _gids)}]";
}

/// <summary>
/// Turns the kernel-attested (uid, gid, pid) of a FUSE request into a <see cref="BridgeIdentity"/>: the supplementary
/// groups are read from <c>/proc/&lt;pid&gt;/status</c> (as libfuse's <c>fuse_req_getgroups</c> does) and cached per
/// pid for <see cref="CacheMilliseconds"/>; a cached entry is reused only while the request's uid and gid match it.
/// Groups a request carries itself (the CREATE_SUPP_GROUP extension) are added. Thread-safe; a cache hit does not allocate.
/// </summary>
/// <remarks>The pid is only a hint for finding the groups: the uid and gid come from the kernel, and a process can
/// only lose groups between the request and the read (setgroups needs CAP_SETGID), so a stale read errs towards
/// fewer rights only for the cache's lifetime. Pid 0 (requests the kernel makes itself) gets no supplementary groups.</remarks>
public sealed class IdentitySource
{
    private sealed record Cached(uint Uid, uint Gid, long Stamp, BridgeIdentity Identity);

    private readonly ConcurrentDictionary<uint, Cached> _byPid = new();
    private readonly ConcurrentDictionary<BridgeIdentity, BridgeIdentity> _interned = new();
    private readonly ConcurrentDictionary<(uint Uid, uint Gid), BridgeIdentity> _noPid = new();

    /// <summary>How long the groups read for a pid are reused (milliseconds). Default 1000.</summary>
    public int CacheMilliseconds { get; init; } = 1000;

    /// <summary>The most pids remembered; the cache is cleared when it grows past this. Default 1024.</summary>
    public int MaxPids { get; init; } = 1024;

    /// <summary>The identity of a request from <paramref name="pid"/> with fsuid <paramref name="uid"/> and fsgid
    /// <paramref name="gid"/>, plus <paramref name="extraGroups"/> from the request itself.</summary>
    public BridgeIdentity For(uint uid, uint gid, uint pid, ReadOnlySpan<uint> extraGroups)
    {
        if (uid == 0) return BridgeIdentity.Root;
        if (pid == 0 && extraGroups.IsEmpty)
        {
            if (_noPid.TryGetValue((uid, gid), out var k)) return k;
            if (_noPid.Count >= MaxPids) _noPid.Clear();
            return _noPid.GetOrAdd((uid, gid), new BridgeIdentity(uid, gid, []));
        }
        long now = Environment.TickCount64;
        if (extraGroups.IsEmpty && pid != 0 && _byPid.TryGetValue(pid, out var c) && c.Uid == uid && c.Gid == gid && now - c.Stamp < CacheMilliseconds)
            return c.Identity;
        var groups = pid != 0 ? ReadGroups(pid) : [];
        if (!extraGroups.IsEmpty) groups = [.. groups, .. extraGroups];
        var id = new BridgeIdentity(uid, gid, groups);
        id = _interned.GetOrAdd(id, id);
        if (_interned.Count > MaxPids * 4) _interned.Clear();
        if (pid != 0 && extraGroups.IsEmpty)
        {
            if (_byPid.Count >= MaxPids) _byPid.Clear();
            _byPid[pid] = new Cached(uid, gid, now, id);
        }
        return id;
    }

    /// <summary>The "Groups:" line of <c>/proc/&lt;pid&gt;/status</c>; empty if the process is gone or the line is missing.</summary>
    public static uint[] ReadGroups(uint pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("Groups:", StringComparison.Ordinal)) continue;
                var parts = line.AsSpan(7).Trim();
                var list = new List<uint>();
                foreach (var r in parts.SplitAny(" \t"))
                {
                    var p = parts[r];
                    if (p.IsEmpty) continue;
                    if (uint.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var g)) list.Add(g);
                }
                return list.ToArray();
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return [];
    }
}
