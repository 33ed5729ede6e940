namespace AsyncNet.Sync;

/// <summary>When <see cref="LoopTasks.WaitAsync{TTask}"/> returns (asyncio's <c>return_when</c>).</summary>
public enum WaitMode
{
    /// <summary>When every task has completed (asyncio's <c>ALL_COMPLETED</c>).</summary>
    AllCompleted,

    /// <summary>When any task completes, however it ends (asyncio's <c>FIRST_COMPLETED</c>).</summary>
    FirstCompleted,

    /// <summary>
    /// When any task ends with an exception; a cancelled task does not count. Like <see cref="AllCompleted"/> if
    /// none fails (asyncio's <c>FIRST_EXCEPTION</c>).
    /// </summary>
    FirstException,
}
