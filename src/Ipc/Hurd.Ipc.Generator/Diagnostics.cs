using Microsoft.CodeAnalysis;

namespace Hurd.Ipc.Generator
{
    /// <summary>The generator's diagnostics. Every one is an error: a protocol that cannot be stubbed must not build.</summary>
    internal static class Diagnostics
    {
        private const string Category = "Hurd.Ipc.Generator";

        public static readonly DiagnosticDescriptor UnsupportedType = new(
            "HURDGEN001", "Unsupported parameter type",
            "Parameter '{0}' of routine '{1}' has type '{2}', which the stub generator cannot put on the wire: use int, uint, long, ulong, short, ushort, byte, sbyte, bool, an enum of those, an unmanaged struct, ReadOnlySpan<byte>, ReadOnlySpan<uint>, ReadOnlySpan<PortName>, Span<byte> or Span<uint> + out int, PortName or PortRight",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MissingRoutineAttribute = new(
            "HURDGEN002", "Method without a routine index",
            "Method '{0}' of subsystem interface '{1}' needs [Routine(index)] or [SimpleRoutine(index)]",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor DuplicateIndex = new(
            "HURDGEN003", "Duplicate routine index",
            "Routines '{0}' and '{1}' both use index {2}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor BadReturnType = new(
            "HURDGEN004", "Bad return type",
            "Routine '{0}' must return Errno{1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor SpanWithoutCount = new(
            "HURDGEN005", "Out byte array without its count",
            "Out array '{0}' of routine '{1}' must be followed by an 'out int' parameter that receives the number of elements used",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor TooManyByteOuts = new(
            "HURDGEN006", "Out array without a maximum length",
            "Out array '{0}' of routine '{1}' needs [MaxLength(n)] because only the last out array may take the rest of the reply",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor SimpleRoutineWithOuts = new(
            "HURDGEN007", "Simpleroutine with out parameters",
            "Simpleroutine '{0}' is one-way and cannot have out or ref parameter '{1}'",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor IndexOutOfRange = new(
            "HURDGEN008", "Routine index out of range",
            "Routine '{0}' has index {1}, but indexes are 0 to 99 because ids from base + 100 are the replies' ids",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedMember = new(
            "HURDGEN009", "Unsupported member",
            "Member '{0}' of subsystem interface '{1}' is not supported: a subsystem holds only non-generic instance methods",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor ReservedName = new(
            "HURDGEN011", "Reserved parameter name",
            "Parameter '{0}' of routine '{1}' starts with '__', which is reserved for the generated code's locals",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor BadInterface = new(
            "HURDGEN012", "Unsupported subsystem interface",
            "Subsystem interface '{0}' must be non-generic and must not inherit other interfaces (declare every routine in it)",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor BadDisposition = new(
            "HURDGEN010", "Bad right disposition",
            "Port parameter '{0}' of routine '{1}' has disposition '{2}'; use CopySend, MoveSend, MakeSend, MakeSendOnce or MoveSendOnce",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
    }
}
