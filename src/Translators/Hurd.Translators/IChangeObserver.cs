using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>
/// What a filesystem server tells of the changes made through its ports (<see cref="Serving.ServedFilesystem.Observer"/>).
/// Each call comes after the change succeeded, on the changing caller's thread, with the node's attributes as they now
/// are; none may block.
/// </summary>
public interface IChangeObserver
{
    /// <summary>False on a thread whose changes the observer makes itself and knows of (the FUSE bridge's handler
    /// threads): then nothing is computed or told.</summary>
    bool Observes { get; }

    /// <summary>The attributes of a node changed (its io_stat after the change).</summary>
    void AttributesChanged(in Stat st);

    /// <summary>Name <paramref name="name"/> in directory <paramref name="dir"/> (its io_stat after the change) was removed,
    /// made or replaced.</summary>
    void NameChanged(in Stat dir, ReadOnlySpan<byte> name);

    /// <summary>The file's bytes from <paramref name="offset"/> (for <paramref name="length"/>, 0: to the end) changed.</summary>
    void DataChanged(in Stat st, long offset, long length);
}
