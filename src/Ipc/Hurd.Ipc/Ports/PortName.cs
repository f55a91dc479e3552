namespace Hurd.Ipc.Ports;

/// <summary>
/// A port name: a small number local to one process's IPC space (like a file descriptor
/// or a Mach port name). It means nothing in another process; the core translates names
/// when a right travels in a message. <see cref="Null"/> (0) names no port.
/// </summary>
public readonly record struct PortName(uint Value)
{
    public static readonly PortName Null = default;
    public bool IsNull => Value == 0;
    public override string ToString() => $"port#{Value}";
}

/// <summary>
/// How a right moves in a message, as Mach's message dispositions: the sender keeps
/// (copy), gives up (move), or mints (make) the right it sends.
/// </summary>
public enum Disposition : byte
{
    /// <summary>No right (an empty slot).</summary>
    None = 0,
    /// <summary>Send a copy of a send right the sender holds; the sender keeps its own.</summary>
    CopySend = 1,
    /// <summary>Move a send right: the sender loses it.</summary>
    MoveSend = 2,
    /// <summary>Make a new send right from a receive right the sender holds.</summary>
    MakeSend = 3,
    /// <summary>Make a new send-once right from a receive right the sender holds.</summary>
    MakeSendOnce = 4,
    /// <summary>Move a send-once right: the sender loses it.</summary>
    MoveSendOnce = 5,
}

/// <summary>The kind of right a process holds under a name.</summary>
[Flags]
public enum RightKind : byte
{
    None = 0,
    Receive = 1,
    Send = 2,
    SendOnce = 4,
    /// <summary>The port this send right named is gone (a dead name).</summary>
    DeadName = 8,
    /// <summary>A port set (one receive loop over many ports).</summary>
    PortSet = 16,
}
