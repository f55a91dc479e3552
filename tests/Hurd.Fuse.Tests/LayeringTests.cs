using Hurd.Fuse;

namespace Hurd.Fuse.Tests;

/// <summary>Hurd.Fuse is L1: it references Hurd.Ipc (for Abi types) and nothing else of the project.</summary>
public class LayeringTests
{
    [Fact(Timeout = 10000)]
    public async Task HurdFuse_ReferencesOnlyHurdIpcOfTheProject()
    {
        await Task.Yield();
        var refs = typeof(FuseSession).Assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Hurd", StringComparison.Ordinal));
        Assert.Equal(["Hurd.Ipc"], refs.ToArray());
        // And of Hurd.Ipc only the Abi namespace.
        var used = typeof(FuseSession).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly))
            .SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType))
            .Select(t => t.IsByRef ? t.GetElementType()! : t)
            .Where(t => t.Assembly.GetName().Name == "Hurd.Ipc")
            .Select(t => t.Namespace).Distinct().ToArray();
        Assert.All(used, ns => Assert.Equal("Hurd.Ipc.Abi", ns));
    }
}
