namespace Hurd.Translators;

/// <summary>
/// What a port given to a client means (libdiskfs <c>struct protid</c>): an <see cref="Identity"/>
/// (whose rights are used) on an <see cref="OpenFile"/> (which node, which offset, which modes).
/// Authority lives here, not in the process: passing the port passes the rights.
/// </summary>
public sealed class Protid
{
    int released;

    /// <summary>A protid for <paramref name="user"/> that takes over one reference of <paramref name="file"/>.</summary>
    public Protid(Identity user, OpenFile file) { User = user; File = file; }

    /// <summary>The ids the SDK checks permissions against.</summary>
    public Identity User { get; }

    /// <summary>The per-open state (peropen).</summary>
    public OpenFile File { get; }

    /// <summary>The number of the node reference (fs_ext noderef_*) this protid is, set once before the serving layer
    /// publishes it in its port's table; 0 for a protid of a port.</summary>
    internal ulong RefNumber;

    /// <summary>The node (shortcut for <c>File.Node</c>).</summary>
    public Node Node => File.Node;

    /// <summary>io_duplicate: a new protid with the same identity on the same OpenFile (shared offset).</summary>
    public Protid Duplicate()
    {
        File.AddRef();
        return new Protid(User, File);
    }

    /// <summary>io_restrict_auth / io_reauthenticate: a new protid on the same OpenFile with another identity.</summary>
    public Protid WithIdentity(Identity user)
    {
        File.AddRef();
        return new Protid(user, File);
    }

    /// <summary>The port was destroyed (no senders): drops this protid's reference on the OpenFile.
    /// Idempotent.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) File.Release();
    }
}
