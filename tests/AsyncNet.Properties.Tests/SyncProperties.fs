module AsyncNet.Properties.Tests.SyncProperties
