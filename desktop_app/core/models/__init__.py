"""Models: tasks, result types, adapters over Ultralytics and torchvision, and the catalog."""
