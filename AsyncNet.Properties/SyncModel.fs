namespace AsyncNet.Properties

// Models and properties of the sync primitives and queues (issue 6) go here.
