using System.Runtime.CompilerServices;

namespace AsyncNet.Diagnostics;

/// <summary>
/// Names the code behind a loop callback for reports ("Exception in callback …", debug mode's slow-callback warning):
/// the delegate's declaring type and method, or, for an <c>await</c> continuation, the async method it resumes.
/// </summary>
/// <remarks>Used only when something is reported: it reflects over the delegate, so it is not for hot paths.</remarks>
internal static class CallbackNames
{
    /// <summary>Names a handle's callback and state (the state carries the real work of a posted continuation).</summary>
    /// <param name="callback">The handle's callback: an <see cref="Action"/>, <see cref="Action{T}"/>, <see cref="SendOrPostCallback"/> or done-callback; null once cancelled.</param>
    /// <param name="state">The handle's state.</param>
    /// <returns>For example "Server.AcceptReady", "EchoHandler.RunAsync (async)" or "Task 12".</returns>
    public static string Describe(object? callback, object? state) => (callback, state) switch
    {
        // What the loop's SynchronizationContext and TaskScheduler were given: an await continuation (the runtime posts
        // the state machine's box, or its MoveNext delegate, as the state), or a task.
        (_, not null) when AsyncMethodOf(state.GetType()) is { } resumed => resumed,
        (SendOrPostCallback, Delegate posted) => Describe(posted),
        (Action<object?>, Task task) => $"Task {task.Id}",
        (Delegate d, _) => Describe(d),
        (null, _) => "(cancelled)",
        _ => callback.GetType().Name,
    };

    /// <summary>Names a delegate: "Type.Method", or "Type.AsyncMethod (async)" for a state machine's continuation.</summary>
    /// <param name="callback">The delegate.</param>
    /// <returns>The name.</returns>
    public static string Describe(Delegate callback)
    {
        if (callback.Target is { } target && AsyncMethodOf(target.GetType()) is { } asyncMethod)
        {
            return asyncMethod;
        }

        Type? type = callback.Method.DeclaringType;
        string method = callback.Method.Name;
        if (GeneratedFrom(method) is { } enclosing)
        {
            // A lambda: the compiler names it "<Enclosing>b__N_M", in a generated class ("<>c") inside the real type.
            while (type is not null && type.Name.StartsWith('<'))
            {
                type = type.DeclaringType;
            }

            return type is null ? $"{enclosing} (lambda)" : $"{Readable(type)}.{enclosing} (lambda)";
        }

        return type is null ? method : $"{Readable(type)}.{method}";
    }

    /// <summary>
    /// The async method whose state machine the runtime's box type (<c>AsyncStateMachineBox&lt;TStateMachine&gt;</c>)
    /// drives, or <see langword="null"/> if <paramref name="boxType"/> is no such box.
    /// </summary>
    private static string? AsyncMethodOf(Type boxType)
    {
        if (!boxType.IsGenericType)
        {
            return null;
        }

        foreach (Type argument in boxType.GetGenericArguments())
        {
            if (typeof(IAsyncStateMachine).IsAssignableFrom(argument))
            {
                // The C# compiler names a state machine "<MethodName>d__N", nested in the method's type.
                string method = GeneratedFrom(argument.Name) ?? argument.Name;
                Type? owner = argument.DeclaringType;
                while (owner is not null && owner.Name.StartsWith('<'))
                {
                    owner = owner.DeclaringType;
                }

                return owner is null ? $"{method} (async)" : $"{Readable(owner)}.{method} (async)";
            }
        }

        return null;
    }

    /// <summary>The source name inside a compiler-generated name ("&lt;Main&gt;b__0_0" → "Main"), or null for an ordinary name.</summary>
    /// <remarks>Nested names unwrap to the innermost: an async lambda's state machine "&lt;&lt;Main&gt;b__0_0&gt;d" → "Main".</remarks>
    private static string? GeneratedFrom(string name)
    {
        if (!name.StartsWith('<'))
        {
            return null;
        }

        // Find the '>' that closes the leading '<'.
        int depth = 0;
        for (int i = 0; i < name.Length; i++)
        {
            depth += name[i] switch { '<' => 1, '>' => -1, _ => 0 };
            if (depth == 0)
            {
                string inner = name[1..i];
                return inner.Length == 0 ? null : GeneratedFrom(inner) ?? inner;
            }
        }

        return null;
    }

    /// <summary>A type's name without its generic arity ("List`1" → "List"), nested types as "Outer.Inner".</summary>
    private static string Readable(Type type)
    {
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick > 0)
        {
            name = name[..tick];
        }

        return type.DeclaringType is { } outer && !type.IsGenericParameter ? $"{Readable(outer)}.{name}" : name;
    }
}
