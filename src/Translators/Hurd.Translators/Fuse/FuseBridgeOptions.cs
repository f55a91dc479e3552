using Hurd.Fuse;
using Hurd.Fuse.Abi;

namespace Hurd.Translators.Fuse;

/// <summary>How a <see cref="FuseBridge"/> presents a filesystem to the Linux kernel.</summary>
public sealed class FuseBridgeOptions
{
    /// <summary>How long the kernel may cache a name → node binding (entry_valid). Default 1 s (libfuse's high-level
    /// default). Use <see cref="TimeSpan.Zero"/> when other clients (IPC, the shim) change the tree behind the kernel's back.</summary>
    public TimeSpan EntryTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the kernel may cache attributes (attr_valid). Default 1 s; zero as for <see cref="EntryTimeout"/>.</summary>
    public TimeSpan AttrTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the kernel caches a failed lookup (a negative entry). Default zero: ENOENT is not cached, since
    /// a translator may grow a name at any time.</summary>
    public TimeSpan NegativeTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Keep the kernel's page cache of a file across opens (FOPEN_KEEP_CACHE). Safe only when every change to
    /// the files goes through this mount; default false (the cache is dropped at each open, as for a network filesystem).</summary>
    public bool KeepCache { get; set; }

    /// <summary>libfuse's auto_cache: at each open the bridge compares the file's mtime and size with those seen at its
    /// previous open and lets the kernel keep the file's page cache (FOPEN_KEEP_CACHE) only when both are unchanged, so a
    /// change made by any client (through this mount or not) is seen by the next open (close-to-open consistency, as NFS).
    /// Costs one io_stat per open. Default true; ignored when <see cref="KeepCache"/> is set.</summary>
    public bool AutoCache { get; set; } = true;

    /// <summary>Mount with <c>default_permissions</c>: the kernel checks mode bits itself and never sends ACCESS. Default
    /// false: as on the Hurd, the translator decides from the caller's identity. The bridge uses per-identity ports either way,
    /// so files a caller creates are owned by the caller.</summary>
    public bool DefaultPermissions { get; set; }

    /// <summary>Refuse every change with EROFS (and mount read-only).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>The deadline of each RPC the bridge makes; a translator that does not answer in time gives the FUSE caller
    /// an error (ETIMEDOUT) rather than a hang. Default 30 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most per-identity ports kept (least recently used dropped first). Default 4096.</summary>
    public int MaxIdentityPorts { get; set; } = 4096;

    /// <summary>The largest io_read / io_write the bridge sends; bigger FUSE requests are split. Default 512 KiB,
    /// well under the IPC core's message limit.</summary>
    public int MaxIoChunk { get; set; } = 512 * 1024;

    /// <summary>Ask the kernel for READDIRPLUS (attributes with each directory entry, READDIRPLUS_AUTO). Default true.
    /// Each entry then costs the bridge a dir_lookup and an io_stat, which `ls -f`, `find` and plain getdents callers
    /// never use: measured here on 2,000 files, plain READDIR made a cold `ls -f` about 25 % faster but `ls -l` slower
    /// (one LOOKUP round trip per entry instead of one batch), so plus stays the default.</summary>
    public bool ReaddirPlus { get; set; } = true;

    /// <summary>Let root's requests name the bridge's own filesystem's nodes by node reference (fs_ext noderef_*: a
    /// LOOKUP, MKDIR or READDIRPLUS entry makes no port on the server; FuseBridge, "node references"). Default true,
    /// unless the environment variable HURD_BRIDGE_NODEREFS is "0" (for A/B measurements). A server without them is
    /// detected at the first call and served with ports.</summary>
    public bool NodeReferences { get; set; } = Environment.GetEnvironmentVariable("HURD_BRIDGE_NODEREFS") != "0";

    /// <summary>Gives the bridge's auth handle (the translator's own; root for a daemon run by root), or null. With it, a port
    /// for a caller other than root is made through auth: auth_makeauth of the caller's ids from this handle (cached per
    /// identity), then io_reauthenticate of the node's port with that handle. Without it, or when the translator has no
    /// auth server (EOPNOTSUPP) or this handle may not make the caller's ids (EPERM: a daemon not run by root), the bridge
    /// uses io_restrict_auth on the node's uid-0 port instead. Asked at each derivation (the handle may be replaced when auth
    /// restarts); the bridge does not own it.</summary>
    public Func<Hurd.Ipc.Ports.SendRight?>? Auth { get; set; }

    /// <summary>Adds <see cref="DefaultPermissions"/> and <see cref="ReadOnly"/> to the mount options (either one asked for
    /// on the command line stays), and asks for
    /// <c>allow_other</c> (every user of the machine reaches the translator, which checks permissions itself).</summary>
    public void ApplyTo(FuseMountOptions mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        mount.DefaultPermissions |= DefaultPermissions;
        mount.ReadOnly |= ReadOnly;
        mount.AllowOther = true;
        if (!ReaddirPlus) mount.Connection.Want &= ~(InitFlags.DoReaddirplus | InitFlags.ReaddirplusAuto);
    }
}
